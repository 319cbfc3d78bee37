package dev.spillway.osd.spi;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a device shares among its transactions: its name, the id counter, the declare-checking
 * mode, the object locks and the per-thread "running transaction" used to refuse nesting.
 */
public final class TransactionSupport {
    /** System property that turns on strict declare checking for every device. */
    public static final String STRICT_PROPERTY = "spillway.osd.strictDeclares";

    private final String device;
    private final boolean strictDeclares;
    private final ObjectLocks locks;
    private final AtomicLong ids = new AtomicLong();
    // The id of the current thread's started, unstopped transaction on this device, if any. An
    // id, not the transaction: a value referencing the device would keep it alive through the
    // thread's map after a transaction that never stopped (a crashed test, a killed caller).
    private final ThreadLocal<Long> running = new ThreadLocal<>();

    public TransactionSupport(String device, boolean strictDeclares) {
        this.device = device;
        this.strictDeclares = strictDeclares || Boolean.getBoolean(STRICT_PROPERTY);
        this.locks = new ObjectLocks(device);
    }

    public String device() {
        return device;
    }

    public boolean strictDeclares() {
        return strictDeclares;
    }

    public ObjectLocks locks() {
        return locks;
    }

    public long nextId() {
        return ids.incrementAndGet();
    }

    /** The last id handed out. */
    public long lastId() {
        return ids.get();
    }

    ThreadLocal<Long> running() {
        return running;
    }
}
