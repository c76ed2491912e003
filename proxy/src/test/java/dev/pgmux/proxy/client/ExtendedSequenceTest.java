package dev.pgmux.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExtendedSequenceTest {
    private final ExtendedSequence sequence = new ExtendedSequence();

    private void send(String tags) {
        for (char tag : tags.toCharArray()) {
            sequence.sent((byte) tag);
        }
    }

    @Test
    void aSequenceIsOpenFromItsFirstMessageUntilSync() {
        assertThat(sequence.quiet()).isTrue();
        send("P");
        assertThat(sequence.open()).isTrue();
        assertThat(sequence.executed()).isFalse();
        send("BDE");
        assertThat(sequence.executed()).isTrue();
        send("S");
        assertThat(sequence.open()).isFalse();
        assertThat(sequence.executed()).isFalse();
        assertThat(sequence.awaitingReady()).isEqualTo(1);
        assertThat(sequence.quiet()).isFalse();
        sequence.readyForQuery();
        assertThat(sequence.quiet()).isTrue();
    }

    @Test
    void flushAndCopyMessagesNeitherOpenNorEndASequence() {
        send("H");
        assertThat(sequence.quiet()).as("a lone Flush opens nothing").isTrue();
        send("PBH");
        assertThat(sequence.open()).as("a Flush keeps an open sequence open").isTrue();
        send("dcf");
        assertThat(sequence.open()).isTrue();
    }

    @Test
    void aSimpleQueryEndsTheSequenceAndAwaitsItsOwnReadyForQuery() {
        send("PBEQ");
        assertThat(sequence.open()).isFalse();
        assertThat(sequence.awaitingReady()).isEqualTo(1);
        send("F");
        assertThat(sequence.awaitingReady()).isEqualTo(2);
        sequence.readyForQuery();
        sequence.readyForQuery();
        sequence.readyForQuery(); // an extra one (a server's own) never goes below zero
        assertThat(sequence.awaitingReady()).isZero();
    }

    @Test
    void pipelinedSyncsAreCountedOneByOne() {
        send("PBES" + "BES" + "Q");
        assertThat(sequence.awaitingReady()).isEqualTo(3);
        sequence.readyForQuery();
        sequence.readyForQuery();
        assertThat(sequence.quiet()).isFalse();
        sequence.readyForQuery();
        assertThat(sequence.quiet()).isTrue();
    }
}
