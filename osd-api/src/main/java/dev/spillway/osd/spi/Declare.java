package dev.spillway.osd.spi;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;

/**
 * One declared update of a transaction: what {@link AbstractTransaction} records between
 * {@code newTransaction} and {@code start}, and what a device reserves space for.
 *
 * @param op the kind of update
 * @param fid the object
 * @param kind for CREATE, the kind created; otherwise null
 * @param offset for WRITE / PUNCH the start (-1: unknown); for TRUNCATE the size; else 0
 * @param length bytes written, punched, or the value size of an xattr or index record
 * @param keyLength for INSERT / DELETE, the key size
 * @param name for SET_XATTR / DELETE_XATTR, the xattr name (null: any)
 */
public record Declare(Op op, Fid fid, ObjectKind kind, long offset, long length, int keyLength, String name) {

    /** The update kinds, one per update method of a transaction. */
    public enum Op {
        CREATE,
        DESTROY,
        WRITE,
        PUNCH,
        TRUNCATE,
        SET_ATTR,
        SET_XATTR,
        DELETE_XATTR,
        INSERT,
        DELETE
    }

    /** True if this declare allows an update {@code u} (same op and object, within its bounds). */
    public boolean covers(Declare u) {
        if (op != u.op || !fid.equals(u.fid)) {
            return false;
        }
        return switch (op) {
            case CREATE -> kind == u.kind;
            case WRITE, PUNCH ->
                offset < 0 ? u.length <= length : u.offset >= offset && u.offset + u.length <= offset + length;
            case SET_XATTR -> (name == null || name.equals(u.name)) && u.length <= length;
            case DELETE_XATTR -> name == null || name.equals(u.name);
            case INSERT -> u.keyLength <= keyLength && u.length <= length;
            case DELETE -> u.keyLength <= keyLength;
            case DESTROY, TRUNCATE, SET_ATTR -> true;
        };
    }

    @Override
    public String toString() {
        StringBuilder sb =
                new StringBuilder(op.name().toLowerCase()).append(' ').append(fid);
        switch (op) {
            case CREATE -> sb.append(' ').append(kind);
            case WRITE, PUNCH ->
                sb.append(" [").append(offset).append(", +").append(length).append(')');
            case TRUNCATE -> sb.append(" to ").append(offset);
            case SET_XATTR ->
                sb.append(' ').append(name).append(" (").append(length).append(" bytes)");
            case DELETE_XATTR -> sb.append(' ').append(name);
            case INSERT ->
                sb.append(" key ").append(keyLength).append(" value ").append(length);
            case DELETE -> sb.append(" key ").append(keyLength);
            default -> {}
        }
        return sb.toString();
    }
}
