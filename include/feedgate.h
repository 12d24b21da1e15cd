/* SPDX-License-Identifier: MIT */
/*
 * libfeedgate's public API in one include: the frame seam, MoldUDP64,
 * ITCH 5.0 decoding, the SIMD batch filter, order books, the pipeline that
 * ties them together, capture-file readers and the ITCH day generator, and
 * the print function every library message goes through (feedgate/log.h).
 * Link with `pkg-config --libs feedgate` (or --static for libfeedgate.a).
 */
#ifndef FEEDGATE_H
#define FEEDGATE_H

#include "feedgate/log.h"
#include "feedgate/frame.h"
#include "feedgate/itch.h"
#include "feedgate/mold.h"
#include "feedgate/filter.h"
#include "feedgate/book.h"
#include "feedgate/pipeline.h"
#include "feedgate/capfile.h"
#include "feedgate/itchgen.h"

#endif /* FEEDGATE_H */
