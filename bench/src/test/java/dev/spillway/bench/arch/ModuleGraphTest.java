package dev.spillway.bench.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module graph, checked by the build: a new upward import (a backend reaching into the pool,
 * the pool into the daemon), a new reach into another module's insides (the pool's records, its
 * shared context, a backend's classes) or a new package cycle in the pool or the daemon fails
 * here, naming the class and the dependency.
 *
 * <p>Why ArchUnit and not {@code module-info.java}: see the root README, "Module graph". In short,
 * every module's tests live in the packages they test (JPMS would have surefire patch each test
 * tree into its module), several dependencies are automatic modules, and the pool's records
 * package holds both its internal stores and the value types the daemon and the server read; a
 * class-level rule states the boundary as it is, and fails the same way JPMS would.
 *
 * <p>It lives in bench because bench is the one module whose classpath holds every other.
 * Main code only: tests may reach anywhere they need to.
 */
class ModuleGraphTest {
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.spillway");
    }

    /** Each module may use only the modules below it (its Maven dependencies, and no more). */
    @Test
    void modulesOnlyUseTheModulesBelowThem() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("osd-api")
                .definedBy("dev.spillway.osd", "dev.spillway.osd.spi..", "dev.spillway.osd.filter..")
                .layer("osd-testkit")
                .definedBy("dev.spillway.osd.testkit..")
                .layer("osd-mem")
                .definedBy("dev.spillway.osd.mem..")
                .layer("osd-kv")
                .definedBy("dev.spillway.osd.kv..")
                .layer("osd-vfs")
                .definedBy("dev.spillway.osd.vfs..")
                .layer("osd-s3")
                .definedBy("dev.spillway.osd.s3..")
                .layer("pool")
                .definedBy("dev.spillway.pool..")
                .layer("gateway-s3")
                .definedBy("dev.spillway.gateway..")
                .layer("migrate")
                .definedBy("dev.spillway.migrate..")
                .layer("simulator")
                .definedBy("dev.spillway.simulator..")
                .layer("server")
                .definedBy("dev.spillway.server..")
                .layer("cli")
                .definedBy("dev.spillway.cli..")
                .layer("bench")
                .definedBy("dev.spillway.bench..")
                // Backends are found by ServiceLoader from their provider; nothing names their
                // classes but the benchmarks that measure one backend against its baseline.
                .whereLayer("osd-mem")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("osd-kv")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("osd-vfs")
                .mayOnlyBeAccessedByLayers("bench")
                .whereLayer("osd-s3")
                .mayOnlyBeAccessedByLayers("bench")
                .whereLayer("osd-testkit")
                .mayOnlyBeAccessedByLayers("bench")
                .whereLayer("pool")
                .mayOnlyBeAccessedByLayers("migrate", "server", "cli", "bench")
                .whereLayer("gateway-s3")
                .mayOnlyBeAccessedByLayers("server", "bench")
                .whereLayer("migrate")
                .mayOnlyBeAccessedByLayers("simulator", "server", "bench")
                .whereLayer("simulator")
                .mayOnlyBeAccessedByLayers("bench")
                .whereLayer("server")
                .mayOnlyBeAccessedByLayers("cli", "bench")
                .whereLayer("cli")
                .mayOnlyBeAccessedByLayers("bench")
                .whereLayer("bench")
                .mayNotBeAccessedByAnyLayer()
                .check(classes);
    }

    /** The value types of the pool's records other modules read (jobs, copies, an object's record). */
    private static final Set<String> POOL_RECORD_API = Set.of(
            "dev.spillway.pool.meta.Job",
            "dev.spillway.pool.meta.Job$Kind",
            "dev.spillway.pool.meta.Copy",
            "dev.spillway.pool.meta.Stripe",
            "dev.spillway.pool.meta.Span",
            "dev.spillway.pool.meta.Checksums",
            "dev.spillway.pool.meta.CopyState",
            "dev.spillway.pool.meta.PoolObject");

    /** A mounted device, and the value its {@code ioErrors()} returns. */
    private static final Set<String> POOL_DEVICE_API =
            Set.of("dev.spillway.pool.device.PoolDevice", "dev.spillway.pool.device.IoErrors");

    /**
     * Outside the pool, nobody touches its shared context, its copy I/O, its stores on the
     * metadata device (work index, device indexes, counters, reserved FIDs) or the metadata gate:
     * the pool's methods are the way in (jobs, drop a parked job, copy totals, a local file, ...).
     */
    @Test
    void thePoolsInsidesStayInside() {
        DescribedPredicate<JavaClass> inside = DescribedPredicate.describe(
                "the pool's insides (pool.core, pool.io, pool.meta but its value types, pool.device but PoolDevice and IoErrors)",
                c -> {
                    String p = c.getPackageName();
                    return p.equals("dev.spillway.pool.core")
                            || p.equals("dev.spillway.pool.io")
                            || (p.equals("dev.spillway.pool.meta") && !POOL_RECORD_API.contains(c.getName()))
                            || (p.equals("dev.spillway.pool.device") && !POOL_DEVICE_API.contains(c.getName()));
                });
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.spillway.pool..")
                .should()
                .dependOnClassesThat(inside)
                .check(classes);
    }

    /**
     * A pool device's OSD is the pool's to drive: the daemon, the server and the CLI read a
     * device's statfs through {@code PoolDevice.statfs()} and change objects through the pool, so
     * nothing writes a device's records or bodies behind the pool's back. The benchmarks may, to
     * measure a device against the pool stacked on it.
     */
    @Test
    void onlyThePoolDrivesItsDevices() {
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.spillway.pool..", "dev.spillway.bench..")
                .should()
                .callMethod("dev.spillway.pool.device.PoolDevice", "osd")
                .check(classes);
    }

    /** No package cycle inside the pool or the daemon: each package builds on the ones below it. */
    @Test
    void noPackageCycleInThePoolOrTheDaemon() {
        JavaClasses poolAndDaemon = classes.that(DescribedPredicate.describe(
                "in the pool or the daemon",
                c -> c.getPackageName().startsWith("dev.spillway.pool")
                        || c.getPackageName().startsWith("dev.spillway.migrate")));
        slices().matching("dev.spillway.(**)").should().beFreeOfCycles().check(poolAndDaemon);
    }
}
