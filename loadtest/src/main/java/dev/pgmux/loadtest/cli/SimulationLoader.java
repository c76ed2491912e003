package dev.pgmux.loadtest.cli;

import dev.pgmux.loadtest.dsl.Simulation;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Loads {@code --simulation}: a class name (found on {@code --classpath} or this tool's own classpath), or a
 * {@code .java} file, compiled on the fly against this tool (as Gatling compiles its simulations).
 */
final class SimulationLoader {
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    private SimulationLoader() {}

    static Simulation load(String spec, String classpath) {
        List<Path> entries = new ArrayList<>();
        if (classpath != null && !classpath.isBlank()) {
            for (String p : classpath.split(File.pathSeparator)) {
                if (!p.isBlank()) {
                    entries.add(Path.of(p).toAbsolutePath());
                }
            }
        }
        String className = spec;
        if (spec.endsWith(".java")) {
            Path source = Path.of(spec).toAbsolutePath();
            Path classes = compile(source, entries);
            entries.add(classes);
            className = className(source);
        }
        List<URL> urls = new ArrayList<>();
        for (Path p : entries) {
            try {
                urls.add(p.toUri().toURL());
            } catch (MalformedURLException e) {
                throw new UsageException("bad --classpath entry " + p);
            }
        }
        ClassLoader loader = urls.isEmpty() ? SimulationLoader.class.getClassLoader()
                : new URLClassLoader(urls.toArray(URL[]::new), SimulationLoader.class.getClassLoader());
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new UsageException("simulation class " + className + " not found (give its jar or directory with --classpath)");
        }
        if (!Simulation.class.isAssignableFrom(type)) {
            throw new UsageException(className + " does not implement " + Simulation.class.getName());
        }
        try {
            return (Simulation) type.getDeclaredConstructor().newInstance();
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new UsageException(className + " needs a public constructor without arguments");
        } catch (InstantiationException | InvocationTargetException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UsageException("cannot create " + className + ": " + cause, cause);
        }
    }

    private static String className(Path source) {
        String name = source.getFileName().toString().replaceFirst("\\.java$", "");
        try {
            Matcher m = PACKAGE.matcher(Files.readString(source));
            return m.find() ? m.group(1) + "." + name : name;
        } catch (IOException e) {
            throw new UsageException("cannot read " + source + ": " + e.getMessage());
        }
    }

    private static Path compile(Path source, List<Path> classpath) {
        if (!Files.isRegularFile(source)) {
            throw new UsageException("simulation source not found: " + source);
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        if (compiler == null) {
            throw new UsageException("compiling " + source.getFileName() + " needs a JDK (this Java has no compiler):"
                    + " run with a JDK, or compile it yourself and give the class name and --classpath");
        }
        try {
            Path out = Files.createTempDirectory("pgmux-loadtest-simulation");
            List<String> cp = new ArrayList<>();
            cp.add(ownLocation());
            cp.add(System.getProperty("java.class.path"));
            classpath.forEach(p -> cp.add(p.toString()));
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
                List<String> options = List.of("-d", out.toString(), "-cp", String.join(File.pathSeparator, cp),
                        "-proc:none", "-Xlint:none");
                boolean ok = compiler.getTask(null, files, diagnostics, options, null,
                        files.getJavaFileObjects(source.toFile())).call();
                if (!ok) {
                    String errors = diagnostics.getDiagnostics().stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                            .map(d -> source.getFileName() + ":" + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT))
                            .collect(Collectors.joining("\n"));
                    throw new UsageException("cannot compile " + source + ":\n" + errors);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UsageException("cannot compile " + source + ": " + e.getMessage(), e);
        }
    }

    private static String ownLocation() {
        try {
            return Path.of(Simulation.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException | RuntimeException e) {
            return "";
        }
    }
}
