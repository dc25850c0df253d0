/*
 * hr_version_demo.c - the smallest host program: checks that the library it
 * loaded matches its headers, then shows how an error travels back (a status
 * code, its name and text, and the handle's detailed message).
 */
#include <stdio.h>

#include <heliosrepl/heliosrepl.h>

int main(void)
{
    printf("libheliosrepl %s (headers %s)\n", hr_version_string(),
           HR_VERSION_STRING);
    if (hr_check_version(HR_VERSION_MAJOR, HR_VERSION_MINOR) != HR_OK) {
        fprintf(stderr, "library %s cannot serve headers %s\n",
                hr_version_string(), HR_VERSION_STRING);
        return 1;
    }

    hr_env *env = NULL;
    int rc = hr_env_new(&env, NULL);
    if (rc != HR_OK) {
        fprintf(stderr, "hr_env_new: %s\n", hr_strerror(rc));
        return 1;
    }

    /* A clock table from a newer ABI than this library knows is refused. */
    hr_clock future_clock = {HR_CLOCK_VERSION + 1, NULL, NULL, NULL};
    rc = hr_env_set_clock(env, &future_clock);
    printf("hr_env_set_clock(version %u) -> %d %s (%s): %s\n",
           future_clock.version, rc, hr_status_name(rc), hr_strerror(rc),
           hr_env_errmsg(env));
    printf("fatal: %s\n", hr_is_fatal(rc) ? "yes" : "no");
    hr_env_free(env);
    return rc == HR_EINVAL ? 0 : 1;
}
