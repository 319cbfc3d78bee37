/**
 * osd-s3: a spill device in any S3-compatible object store (AWS S3, Ceph RGW, MinIO, s3proxy,
 * Spillway's own gateway), on the AWS SDK for Java v2. Registered as {@code backend: s3}.
 *
 * <p>One file per concern: {@link dev.spillway.osd.s3.S3Osd} (the device: statfs, attribute and
 * xattr reads, listing), {@link dev.spillway.osd.s3.S3Mount} (format, refusal, sweep),
 * {@link dev.spillway.osd.s3.BodyReads} (ranged GETs, verified per block),
 * {@link dev.spillway.osd.s3.S3Transaction} (updates), {@link dev.spillway.osd.s3.BodyUpload} (a
 * body streamed as one PUT or a multipart upload), {@link dev.spillway.osd.s3.S3Store} (the
 * requests), {@link dev.spillway.osd.s3.ObjectMeta} (attributes and xattrs as user metadata),
 * {@link dev.spillway.osd.s3.BlockSums} (CRC32C per block), {@link dev.spillway.osd.s3.SpaceCounters}
 * (statfs kept by the device), {@link dev.spillway.osd.s3.S3Keys} (where things live in the
 * bucket), {@link dev.spillway.osd.s3.S3Errors} (SDK exceptions to errno) and
 * {@link dev.spillway.osd.s3.S3Settings} / {@link dev.spillway.osd.s3.S3Clients} (configuration).
 */
package dev.spillway.osd.s3;
