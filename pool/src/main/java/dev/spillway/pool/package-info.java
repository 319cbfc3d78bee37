/**
 * The pool OSD: an {@link dev.spillway.osd.Osd} that stacks on other OSDs, keeping its namespace,
 * layouts and work index on the metadata device and object bodies on the devices the layouts name.
 */
package dev.spillway.pool;
