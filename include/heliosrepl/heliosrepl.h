/*
 * heliosrepl/heliosrepl.h - the umbrella header of libheliosrepl.
 *
 * Include this one header; it pulls in every module's header. Link with
 * `pkg-config --cflags --libs heliosrepl` or CMake's find_package(heliosrepl).
 */
#ifndef HELIOSREPL_H
#define HELIOSREPL_H

#include <heliosrepl/version.h>
#include <heliosrepl/export.h>
#include <heliosrepl/core.h>
#include <heliosrepl/apply.h>
#include <heliosrepl/batch.h>
#include <heliosrepl/codec.h>
#include <heliosrepl/pgoutput.h>
#include <heliosrepl/stream.h>
#include <heliosrepl/qos.h>
#include <heliosrepl/copy.h>
#include <heliosrepl/transport.h>
#include <heliosrepl/predict.h>

#endif /* HELIOSREPL_H */
