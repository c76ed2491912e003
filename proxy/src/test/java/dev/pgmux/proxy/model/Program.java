package dev.pgmux.proxy.model;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * A sequence of batches a client sends, each written at once and answered up to its last ReadyForQuery.
 *
 * @param seed    the seed it was generated from (0 for a hand-written program)
 * @param batches the batches, in order
 */
record Program(long seed, List<Batch> batches) {

    /**
     * One write of the client: one or more units, each ending with Sync or being a simple Query.
     *
     * @param ops          the messages
     * @param switchServer whether pgmux should serve it from the other server than the previous batch when
     *                     the client is between transactions (honoured by the controlled placement only)
     */
    record Batch(List<Op> ops, boolean switchServer) {
        int readyCount() {
            return ops.stream().mapToInt(Op::readyCount).sum();
        }

        byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ops.forEach(op -> op.encode(out));
            return out.toByteArray();
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(switchServer ? "[other server] " : "[same server]  ");
            for (int i = 0; i < ops.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(ops.get(i));
            }
            return sb.toString();
        }
    }

    static Batch on(Op... ops) {
        return new Batch(List.of(ops), false);
    }

    static Batch onOtherServer(Op... ops) {
        return new Batch(List.of(ops), true);
    }

    static Program of(Batch... batches) {
        return new Program(0, List.of(batches));
    }

    /** Batches 0..last, one per line. */
    String describe(int last) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= last && i < batches.size(); i++) {
            sb.append(String.format("  #%-3d %s%n", i, batches.get(i)));
        }
        return sb.toString();
    }

    int messageCount() {
        return batches.stream().mapToInt(b -> b.ops().size()).sum();
    }
}
