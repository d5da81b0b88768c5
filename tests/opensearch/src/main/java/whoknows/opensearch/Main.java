package whoknows.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch for whoknows' tests: the HTTP API on 127.0.0.1 at a given port, no security
 * (the core has none), single-node discovery, everything it writes under one folder.
 *
 * <pre>java -Xmx512m -cp 'lib/*' whoknows.opensearch.Main --home DIR --http-port PORT [--exit-on-eof]</pre>
 *
 * With --exit-on-eof it stops when its standard input closes, so a test run that dies never leaves
 * a node behind. It prints one line "whoknows-opensearch: started http://127.0.0.1:PORT" once started.
 */
public final class Main {

    /** Node's constructor that takes plugins from the classpath is protected: this opens it. */
    private static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment) {
            super(environment, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class), true);
        }
    }

    private Main() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        int httpPort = -1;
        boolean exitOnEof = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(value(args, ++i, "--home")).toAbsolutePath();
                case "--http-port" -> httpPort = Integer.parseInt(value(args, ++i, "--http-port"));
                case "--exit-on-eof" -> exitOnEof = true;
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (home == null || httpPort < 1 || httpPort > 65535) {
            usage("--home and --http-port (1-65535) are required");
        }
        Path config = home.resolve("config");
        for (String folder : List.of("config", "data", "logs", "plugins", "modules")) {
            Files.createDirectories(home.resolve(folder));
        }
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "whoknows-test")
            .put("node.name", "whoknows-test-node")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.toString(httpPort))
            .put("transport.port", "0")
            // One node: every index green with no replicas; a small disk must not turn indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .put("action.auto_create_index", "false")
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "whoknows-test-node");
        Node node = new ClasspathNode(environment);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (IOException e) {
                System.err.println("whoknows-opensearch: closing the node failed: " + e);
            }
            stopped.countDown();
        }, "whoknows-opensearch-stop"));
        node.start();
        System.out.println("whoknows-opensearch: started http://127.0.0.1:" + httpPort);
        System.out.flush();
        if (exitOnEof) {
            Thread watcher = new Thread(() -> {
                try {
                    InputStream in = System.in;
                    while (in.read() != -1) {
                        // the content does not matter, only its end
                    }
                } catch (IOException ignored) {
                    // a broken pipe means the same as its end
                }
                System.exit(0);
            }, "whoknows-opensearch-stdin");
            watcher.setDaemon(true);
            watcher.start();
        }
        stopped.await();
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length) {
            usage(name + " needs a value");
        }
        return args[i];
    }

    private static void usage(String problem) {
        System.err.println("whoknows-opensearch: " + problem);
        System.err.println("usage: Main --home DIR --http-port PORT [--exit-on-eof]");
        System.exit(2);
    }
}
