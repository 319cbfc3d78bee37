package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.osd.OsdException;
import java.util.Map;

/**
 * Runs a device operation of the admin API step by step ({@code evacuate}, {@code replace}: each
 * call moves up to a batch of objects and says how many remain), showing progress, until it is done
 * or has stopped moving for {@code patience} steps in a row.
 */
final class DeviceSteps {
    private DeviceSteps() {}

    /**
     * How the steps ended.
     *
     * @param last the last step's answer
     * @param moved objects moved over all steps
     * @param done the last step says the operation is complete
     */
    record Ended(JsonNode last, long moved, boolean done) {}

    static Ended run(AdminClient c, String path, Map<String, String> params, ProgressBar bar, int patience)
            throws OsdException {
        long moved = 0;
        long total = -1;
        int still = 0;
        JsonNode p;
        while (true) {
            p = c.call("POST", path, params);
            moved += p.path("moved").asLong();
            if (total < 0) {
                total = moved + p.path("remaining").asLong();
            }
            bar.update("", moved, Math.max(total, moved));
            if (p.path("done").asBoolean()) {
                break;
            }
            still = p.path("moved").asLong() == 0 ? still + 1 : 0;
            if (still >= patience) {
                break;
            }
        }
        bar.finish();
        return new Ended(p, moved, p.path("done").asBoolean());
    }
}
