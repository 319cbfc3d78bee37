package dev.spillway.server.admin;

import dev.spillway.osd.Errno;

/** The one table from errno to the admin API's HTTP status. */
final class HttpErrors {
    private HttpErrors() {}

    static int status(Errno e) {
        return switch (e) {
            case ENOENT, ENODATA, ENXIO -> 404;
            case EINVAL, ERANGE, E2BIG, ENAMETOOLONG, ENOTDIR, EISDIR -> 400;
            case EEXIST, EBUSY, ESTALE, EDEADLK -> 409;
            case EPERM, EACCES, EROFS -> 403;
            case ENOSPC, EDQUOT -> 507;
            case EOPNOTSUPP -> 501;
            case EAGAIN, ETIMEDOUT -> 503;
            default -> 500;
        };
    }
}
