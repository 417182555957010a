/*
 * An unbounded source in which every subtask counts 0, 1, 2, ... for as long as the job runs.
 *
 * Why not env.fromSequence: its enumerator cuts the range into as many splits as the job had
 * subtasks when it first started and keeps that count through every restore, so after a rescale
 * up the extra source subtasks get no split and FINISH a second after the start. A savepoint or
 * checkpoint that lands while one finishes is declined ("Task local checkpoint failure"), and a
 * scaled-up job runs with finished tasks, which no real streaming job (Kafka, Pulsar) does.
 *
 * Here splits carry nothing: the enumerator assigns none and never signals the end, and each
 * reader emits its own sequence, so the source runs at whatever parallelism the job has. Its
 * state is empty; the counter downstream keeps the job's state.
 * Uses only the FLIP-27 API that is the same in Flink 1.16 through 2.x.
 */
package gitflink.testjob;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

public class EndlessSequence implements Source<Long, EndlessSequence.NoSplit, Long> {

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<Long, NoSplit> createReader(SourceReaderContext context) {
        return new Reader();
    }

    @Override
    public SplitEnumerator<NoSplit, Long> createEnumerator(SplitEnumeratorContext<NoSplit> context) {
        return new Enumerator();
    }

    @Override
    public SplitEnumerator<NoSplit, Long> restoreEnumerator(
            SplitEnumeratorContext<NoSplit> context, Long checkpoint) {
        return new Enumerator();
    }

    @Override
    public SimpleVersionedSerializer<NoSplit> getSplitSerializer() {
        return new Fixed<>(new NoSplit());
    }

    @Override
    public SimpleVersionedSerializer<Long> getEnumeratorCheckpointSerializer() {
        return new Fixed<>(0L);
    }

    /** The split type the API asks for; none is ever created. */
    public static final class NoSplit implements SourceSplit {
        @Override
        public String splitId() {
            return "none";
        }
    }

    static final class Reader implements SourceReader<Long, NoSplit> {
        private long next;

        @Override
        public void start() {}

        @Override
        public InputStatus pollNext(ReaderOutput<Long> output) {
            output.collect(next++);
            return InputStatus.MORE_AVAILABLE;
        }

        @Override
        public List<NoSplit> snapshotState(long checkpointId) {
            return Collections.emptyList();
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void addSplits(List<NoSplit> splits) {}

        @Override
        public void notifyNoMoreSplits() {}

        @Override
        public void close() {}
    }

    static final class Enumerator implements SplitEnumerator<NoSplit, Long> {
        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {}

        @Override
        public void addSplitsBack(List<NoSplit> splits, int subtaskId) {}

        @Override
        public void addReader(int subtaskId) {}

        @Override
        public Long snapshotState(long checkpointId) {
            return 0L;
        }

        @Override
        public void close() {}
    }

    /** Writes nothing and reads back the one value this source ever has. */
    static final class Fixed<T> implements SimpleVersionedSerializer<T> {
        private final T value;

        Fixed(T value) {
            this.value = value;
        }

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(T ignored) {
            return new byte[0];
        }

        @Override
        public T deserialize(int version, byte[] serialized) {
            return value;
        }
    }
}
