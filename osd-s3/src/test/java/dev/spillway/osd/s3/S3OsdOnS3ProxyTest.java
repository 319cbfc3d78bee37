package dev.spillway.osd.s3;

/** The conformance suite on osd-s3, served by s3proxy (filesystem blobstore) on loopback. */
class S3OsdOnS3ProxyTest extends S3OsdConformance {
    @Override
    S3Peers.Peer peer() throws Exception {
        return S3Peers.s3proxy();
    }
}
