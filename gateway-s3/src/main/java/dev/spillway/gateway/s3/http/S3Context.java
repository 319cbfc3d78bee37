package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.access.Access;
import dev.spillway.gateway.s3.lifecycle.LifecyclePlanner;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Uploads;

/** What every operation works with. */
public record S3Context(
        GatewayConfig config,
        Namespace namespace,
        BucketObjects objects,
        Uploads uploads,
        Access access,
        LifecyclePlanner lifecycle) {
    public S3Context(GatewayConfig config, Namespace namespace, BucketObjects objects, Uploads uploads) {
        this(
                config,
                namespace,
                objects,
                uploads,
                new Access(config.credentials(), namespace),
                new LifecyclePlanner(namespace));
    }

    /** The owner every bucket and object shows: the gateway has one tenant. */
    public static final String OWNER_ID = "spillway";
}
