/* `chatd sweep`: the files no upload will ever finish with (API.md 2.5).
 * A worker that dies between moving an upload into the store and
 * committing its record leaves a file no record names; nginx that dies
 * mid-upload leaves its body in the incoming directory. Both are removed
 * once older than the sweep's age, so that an upload in progress, whose
 * file is as new as its last byte, is never taken from under it. */
#ifndef CHATD_SWEEP_H
#define CHATD_SWEEP_H

#include <stdbool.h>

/* Sweeps store_config.dir against the database of conninfo: removes the
 * stored files without a record and the incoming files, each older than
 * age seconds. Logs what it removed. False when the database or the
 * store could not be read. */
bool sweep_run(const char *conninfo, int age);

#endif
