/* A flowfabric worker: upper-cases each payload of lane "greetings", stops when the
 * lane is empty. Build: cc worker.c $(pkg-config --cflags --libs flowfabric) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <flowfabric.h>

static ff_job_outcome shout(ff_job *job, void *user)
{
    size_t len;
    const unsigned char *in = ff_job_input(job, &len);   /* NULL if no input */
    char *out = malloc(len + 1);
    (void) user;
    if (out == NULL) return FF_JOB_FAIL;                 /* retried per policy */
    for (size_t i = 0; i < len; i++) out[i] = (char) toupper(in[i]);
    ff_job_set_result(job, out, len);                    /* copied */
    printf("%s: %.*s -> %.*s\n", ff_job_execution_id(job), (int) len, (const char *) in, (int) len, out);
    free(out);
    return FF_JOB_COMPLETE;
}

int main(void)
{
    ff_worker_options opts = {.exit_when_idle = true, .handle_signals = true};
    ff_error err = {0};
    /* "": connect with PGHOST, PGPORT, PGDATABASE, ...; 4 jobs at a time */
    if (ff_worker_run("", "greetings", NULL, 0, 4, shout, NULL, &opts, &err) != FF_OK)
        return fprintf(stderr, "worker: %s\n", err.message), 1;
    return 0;
}
