package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.SimulationSetup;
import dev.pgmux.loadtest.engine.RunResult;
import dev.pgmux.loadtest.engine.Runner;
import dev.pgmux.loadtest.engine.Target;
import dev.pgmux.loadtest.report.HtmlReport;
import dev.pgmux.loadtest.report.JsonReport;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** One run of the chosen simulation against one target, with its reports written: what {@code run} and each sweep point do. */
final class Execution {
    private Execution() {}

    static RunResult run(LoadOptions o, Target target, String runName, Path outDir, Map<String, String> extraConfig,
                         PrintStream console, String progressPrefix) throws IOException {
        SimulationSetup setup;
        try {
            // a fresh setup per run: feeders and other state start over
            setup = o.simulation.define(o.context).assertions(o.assertions);
            if (o.maxDuration != null) {
                setup = setup.maxDuration(o.maxDuration);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        Map<String, String> config = new LinkedHashMap<>(o.configuration());
        config.putAll(extraConfig);
        Runner runner;
        try {
            runner = new Runner(setup, target, o.runOptions, new ConsoleProgress(console, progressPrefix, o.quiet));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        RunResult result = runner.run(runName, o.simulationName, config);
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("report.json"), JsonReport.render(result));
        Files.writeString(outDir.resolve("report.html"), HtmlReport.render(result, Version.get()));
        return result;
    }
}
