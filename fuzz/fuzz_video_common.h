/* Shared by the video fuzz targets: the budget every fuzzed video is opened under
 * (small, so that a hostile input is stopped quickly and the run goes on). */
#ifndef FUZZ_VIDEO_COMMON_H
#define FUZZ_VIDEO_COMMON_H

#include "kestrel/video.h"

static const struct ks_video_limits fz_video_limits = {
    .max_seconds = 3,
    .max_packets = 5000,
    .max_frames = 300,
    .max_side = 4096,
    .max_frame_pixels = 4u << 20,
    .max_total_pixels = 64u << 20,
    .max_errors = 50,
};

#endif
