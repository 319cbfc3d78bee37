package dev.spillway.osd.s3;

/** The conformance suite on osd-s3, served by Spillway's own S3 gateway over osd-mem. */
class S3OsdOnGatewayTest extends S3OsdConformance {
    @Override
    S3Peers.Peer peer() throws Exception {
        return S3Peers.gateway();
    }
}
