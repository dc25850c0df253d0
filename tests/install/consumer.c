/*
 * consumer.c - a host program built against an installed libheliosrepl, the
 * way a user builds one: only <heliosrepl/heliosrepl.h>, flags from
 * pkg-config or CMake's find_package(heliosrepl). Exit 0 when the library it
 * runs with serves the headers it was compiled with.
 */
#include <heliosrepl/heliosrepl.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "consumer";
    hr_env *env = NULL;
    int rc;

    rc = hr_check_version(HR_VERSION_MAJOR, HR_VERSION_MINOR);
    if (rc != HR_OK) {
        fprintf(stderr, "%s: hr_check_version(%d, %d): %s\n", how,
                HR_VERSION_MAJOR, HR_VERSION_MINOR, hr_strerror(rc));
        return 1;
    }
    if (hr_check_version(HR_VERSION_MAJOR + 1, 0) != HR_EVERSION) {
        fprintf(stderr, "%s: a newer major was accepted\n", how);
        return 1;
    }
    if (hr_version() != (uint32_t)HR_VERSION_NUM ||
        strcmp(hr_version_string(), HR_VERSION_STRING) != 0) {
        fprintf(stderr, "%s: library %s, headers %s\n", how,
                hr_version_string(), HR_VERSION_STRING);
        return 1;
    }

    rc = hr_env_new(&env, NULL);
    if (rc != HR_OK || env == NULL) {
        fprintf(stderr, "%s: hr_env_new: %s\n", how, hr_strerror(rc));
        return 1;
    }
    hr_env_free(env);

    printf("%s: libheliosrepl %s OK\n", how, hr_version_string());
    return 0;
}
