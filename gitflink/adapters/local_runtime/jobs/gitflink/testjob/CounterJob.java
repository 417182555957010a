/*
 * gitflink's example job: endless, throttled, stateful, with explicit operator uids.
 * Uses only API present in Flink 1.16 through 2.x (no open(Configuration), no SourceFunction).
 * Its source (EndlessSequence) runs in every subtask at any parallelism, as a real streaming
 * job's does: no source task finishes after a rescale.
 * The counter's state is visible over REST as gauges of the "counter" operator:
 *   maxCount   - the highest per-key count this subtask has seen
 *   startCount - the count the first record after (re)start got: 1 when started empty,
 *                more than 1 when the state was restored from a savepoint or checkpoint.
 * --fail-after-records N makes each counter subtask throw after N records since it (re)started,
 * so tests can make a job fail for real (and fail again after every restore: a crash loop).
 */
package gitflink.testjob;

import java.util.concurrent.locks.LockSupport;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

public class CounterJob {

    public static void main(String[] args) throws Exception {
        long rate = 100;
        long keys = 8;
        long checkpointInterval = 10000;
        String counterUid = "counter";
        long printEvery = 1000;
        long failAfter = 0;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--rate": rate = Long.parseLong(args[i + 1]); break;
                case "--keys": keys = Long.parseLong(args[i + 1]); break;
                case "--checkpoint-interval": checkpointInterval = Long.parseLong(args[i + 1]); break;
                case "--counter-uid": counterUid = args[i + 1]; break;
                case "--print-every": printEvery = Long.parseLong(args[i + 1]); break;
                case "--fail-after-records": failAfter = Long.parseLong(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        final long pause = rate > 0 ? 1_000_000_000L / rate : 0;
        final long keyCount = Math.max(1, keys);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (checkpointInterval > 0) {
            env.enableCheckpointing(checkpointInterval);
        }
        env.fromSource(new EndlessSequence(), WatermarkStrategy.noWatermarks(), "sequence").uid("source")
                .map(new Throttle(pause)).name("throttle").uid("throttle")
                .keyBy(new KeyOf(keyCount))
                .process(new Counter(printEvery, failAfter)).name("counter").uid(counterUid)
                .print().name("print").uid("print");
        env.execute("gitflink-counter-job");
    }

    /** Sleeps so each subtask emits about `rate` records per second. */
    public static class Throttle implements MapFunction<Long, Long> {
        private final long pauseNanos;

        public Throttle(long pauseNanos) {
            this.pauseNanos = pauseNanos;
        }

        @Override
        public Long map(Long value) {
            if (pauseNanos > 0) {
                LockSupport.parkNanos(pauseNanos);
            }
            return value;
        }
    }

    public static class KeyOf implements org.apache.flink.api.java.functions.KeySelector<Long, Long> {
        private final long keys;

        public KeyOf(long keys) {
            this.keys = keys;
        }

        @Override
        public Long getKey(Long value) {
            return value % keys;
        }
    }

    /** Counts records per key in keyed state; state and gauges are set up lazily (1.x and 2.x). */
    public static class Counter extends KeyedProcessFunction<Long, Long, String> {
        private final long printEvery;
        private final long failAfter;
        private transient ValueState<Long> count;
        private transient volatile long maxCount;
        private transient volatile long startCount;
        private transient long seen;

        public Counter(long printEvery, long failAfter) {
            this.printEvery = printEvery;
            this.failAfter = failAfter;
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<String> out) throws Exception {
            boolean first = count == null;
            if (first) {
                count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            }
            seen++;
            if (failAfter > 0 && seen > failAfter) {
                throw new IllegalStateException(
                        "gitflink test job: failing after " + failAfter + " records, as asked");
            }
            Long previous = count.value();
            long next = (previous == null ? 0 : previous) + 1;
            count.update(next);
            if (next > maxCount) {
                maxCount = next;
            }
            if (first) {
                // The gauges appear only once they hold the first record's values: a metrics
                // snapshot taken in between (the JobManager caches it for seconds) never shows
                // a placeholder.
                startCount = next;
                getRuntimeContext().getMetricGroup().gauge("maxCount", (Gauge<Long>) () -> maxCount);
                getRuntimeContext().getMetricGroup().gauge("startCount", (Gauge<Long>) () -> startCount);
            }
            if (printEvery > 0 && next % printEvery == 0) {
                out.collect(ctx.getCurrentKey() + "," + next);
            }
        }
    }
}
