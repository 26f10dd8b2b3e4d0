/*
 * StreamsPeer - the Kafka Streams side of rill's benchmarks: the same
 * topologies rill runs (passthrough, a keyed count into RocksDB, and a
 * windowed count: tumbling one-hour windows without grace, every update
 * emitted, the output key "<key>@<start>/<end>" as rill writes it), with the
 * same guarantee and commit interval, on the same broker, as the same SASL
 * user. Runs until SIGTERM. Arguments:
 *   bootstrap user passwordFile appId in out passthrough|count|wcount eos|alo commitMs stateDir
 */
package rill.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

public final class StreamsPeer {
    public static void main(String[] a) throws Exception {
        if (a.length != 10) {
            System.err.println("usage: bootstrap user passwordFile appId in out passthrough|count|wcount eos|alo commitMs stateDir");
            System.exit(2);
        }
        String password = new String(Files.readAllBytes(Paths.get(a[2]))).trim();
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, a[3]);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a[0]);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
              a[7].equals("eos") ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(a[8]));
        p.put(StreamsConfig.STATE_DIR_CONFIG, a[9]);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "SCRAM-SHA-512");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
              + a[1] + "\" password=\"" + password + "\";");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArray().getClass());
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArray().getClass());
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0); /* emit every update, as rill does */

        StreamsBuilder b = new StreamsBuilder();
        if (a[6].equals("count")) {
            b.stream(a[4], Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
             .groupByKey()
             .count(Materialized.as("counts"))
             .toStream()
             .mapValues(v -> Long.toString(v).getBytes())
             .to(a[5], Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        } else if (a[6].equals("wcount")) {
            b.stream(a[4], Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
             .groupByKey()
             .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofHours(1)))
             .count(Materialized.as("wcounts"))
             .toStream()
             .map((k, v) -> KeyValue.pair((new String(k.key(), StandardCharsets.ISO_8859_1) + "@"
                                           + k.window().start() + "/" + k.window().end())
                                              .getBytes(StandardCharsets.ISO_8859_1),
                                          Long.toString(v).getBytes()))
             .to(a[5], Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        } else {
            b.stream(a[4], Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
             .to(a[5], Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        }
        KafkaStreams streams = new KafkaStreams(b.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            done.countDown();
        }));
        streams.start();
        done.await();
    }
}
