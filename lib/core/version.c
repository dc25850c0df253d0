/* version.c - run-time version queries. */
#include <heliosrepl/core.h>
#include <heliosrepl/version.h>

HR_API uint32_t hr_version(void)
{
    return (uint32_t)HR_VERSION_NUM;
}

HR_API const char *hr_version_string(void)
{
    return HR_VERSION_STRING;
}

HR_API int hr_check_version(int major, int minor)
{
    if (major != HR_VERSION_MAJOR || minor < 0 || minor > HR_VERSION_MINOR)
        return HR_EVERSION;
    return HR_OK;
}
