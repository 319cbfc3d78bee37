package dev.spillway.server.status;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.OsdException;
import dev.spillway.server.DataDir;
import java.io.IOException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The last things an operator wants to know happened: mounts with their recovery, fsck and scrub
 * results, evacuations. Kept in memory and in {@code events.json} of the data folder (written to
 * a temporary name, fsynced, renamed, folder fsynced), so the status page shows the recoveries of
 * earlier starts too. A lost or unreadable file only loses this history, never the pool.
 */
public final class Events {
    /** One event: when, what kind ({@code mount}, {@code fsck}, {@code scrub}, {@code evacuate}), ok or not, and what. */
    public record Event(Instant at, String kind, boolean ok, String summary) {}

    private static final int KEEP = 50;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(Events.class.getName());

    private final DataDir dir;
    private final InstantSource clock;
    private final Deque<Event> events = new ArrayDeque<>();

    /** The history kept in {@code dir}'s {@value dev.spillway.server.DataDir#EVENTS} (null: in memory only). */
    public Events(DataDir dir, InstantSource clock) {
        this.dir = dir;
        this.clock = clock;
        if (dir == null) {
            return;
        }
        try {
            var bytes = dir.read(DataDir.EVENTS);
            if (bytes.isPresent()) {
                List<Map<String, Object>> old = JSON.readValue(bytes.get(), new TypeReference<>() {});
                for (Map<String, Object> m : old) {
                    events.addLast(new Event(
                            Instant.parse(String.valueOf(m.get("at"))),
                            String.valueOf(m.get("kind")),
                            Boolean.TRUE.equals(m.get("ok")),
                            String.valueOf(m.get("summary"))));
                }
            }
        } catch (OsdException | IOException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "events history " + dir.root().resolve(DataDir.EVENTS) + " unreadable, starting anew: " + e);
            events.clear();
        }
    }

    /** Records an event now and keeps the last {@value #KEEP}. */
    public synchronized void add(String kind, boolean ok, String summary) {
        events.addLast(new Event(clock.instant(), kind, ok, summary));
        while (events.size() > KEEP) {
            events.removeFirst();
        }
        persist();
    }

    /** Newest first. */
    public synchronized List<Event> recent() {
        List<Event> out = new ArrayList<>(events);
        Collections.reverse(out);
        return out;
    }

    private void persist() {
        if (dir == null) {
            return;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Event e : events) {
            out.add(Map.of("at", e.at().toString(), "kind", e.kind(), "ok", e.ok(), "summary", e.summary()));
        }
        try {
            dir.write(DataDir.EVENTS, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(out));
        } catch (OsdException | IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write events history: " + e.getMessage());
        }
    }
}
