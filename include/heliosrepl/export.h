/*
 * heliosrepl/export.h - symbol visibility for the public API.
 *
 * The library is built with -fvisibility=hidden; HR_API marks the functions
 * that form the stable ABI. HR_EXPERIMENTAL_API marks functions outside the
 * ABI promise (see heliosrepl/experimental.h); they are exported so the tests
 * and benchmarks can reach them but may change in any release.
 */
#ifndef HELIOSREPL_EXPORT_H
#define HELIOSREPL_EXPORT_H

#if defined(HR_BUILDING_LIBRARY) && defined(__GNUC__)
#define HR_API __attribute__((visibility("default")))
#else
#define HR_API
#endif

#define HR_EXPERIMENTAL_API HR_API

#if defined(__GNUC__)
#define HR_PRINTF_LIKE(fmt_index, first_arg) \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HR_PRINTF_LIKE(fmt_index, first_arg)
#endif

#endif /* HELIOSREPL_EXPORT_H */
