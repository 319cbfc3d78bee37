package dev.spillway.osd;

/**
 * Called once per registered transaction when its fate is known, as Lustre's
 * {@code dt_txn_commit_cb}.
 *
 * <p>{@code error == null}: the transaction committed; on a device with
 * {@link Capability#DURABLE_COMMIT} it is durable, otherwise it was applied at stop. Non-null:
 * it did not commit (it was aborted, an update failed, it never started, or the device failed
 * writing it); on a device with {@link Capability#TRANSACTIONS} none of it is visible.
 *
 * <p>Callbacks run on a device thread or the stopping thread; they must be quick, must not
 * block and must not throw (a throwing callback is logged by the device and ignored, the one
 * place an error is not propagated, because there is no caller left to propagate it to).
 * Callbacks of one transaction fire in the order they were added; a transaction's callbacks fire
 * before those of any transaction started after its stop returned.
 */
@FunctionalInterface
public interface CommitCallback {
    void committed(long transactionId, OsdException error);
}
