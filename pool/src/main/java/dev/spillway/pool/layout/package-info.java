/**
 * The pool's placement record: Lustre's composite (FLR) layout xattr, bit-compatible with
 * {@code lustre_user.h}. {@link dev.spillway.pool.layout.Layout} and its parts are immutable
 * records with pure helpers (add / drop a mirror, mark stale / in sync, preferred read, FLR
 * state, generation); {@link dev.spillway.pool.layout.LayoutCodec} turns them into the
 * {@code trusted.lov} bytes and back, refusing malformed input with a
 * {@link dev.spillway.pool.layout.LayoutException}; {@link dev.spillway.pool.layout.LayoutPrinter}
 * prints them as {@code lfs getstripe -v} does. Format facts and their sources are in
 * {@link dev.spillway.pool.layout.LovFormat} and pool/README.md.
 */
package dev.spillway.pool.layout;
