// IOReport has no public header. These declarations follow the public tools that use it
// (vladkens/macmon src/ioreport.rs, metaspartan/mactop internal/app/ioreport.m); the library is
// /usr/lib/libIOReport.dylib, linked with -lIOReport. Unverified here: this file compiles on macOS only.
#pragma once
#ifdef __APPLE__

#include <CoreFoundation/CoreFoundation.h>

#include <cstdint>

extern "C" {
typedef struct IOReportSubscription* IOReportSubscriptionRef;

CFDictionaryRef IOReportCopyChannelsInGroup(CFStringRef group, CFStringRef subgroup, uint64_t a, uint64_t b,
                                            uint64_t c);
void IOReportMergeChannels(CFDictionaryRef into, CFDictionaryRef from, CFTypeRef unused);
IOReportSubscriptionRef IOReportCreateSubscription(void* unused, CFMutableDictionaryRef channels,
                                                   CFMutableDictionaryRef* subscribed, uint64_t d, CFTypeRef e);
CFDictionaryRef IOReportCreateSamples(IOReportSubscriptionRef sub, CFMutableDictionaryRef channels,
                                      CFTypeRef unused);
CFDictionaryRef IOReportCreateSamplesDelta(CFDictionaryRef earlier, CFDictionaryRef later, CFTypeRef unused);
CFStringRef IOReportChannelGetGroup(CFDictionaryRef item);
CFStringRef IOReportChannelGetSubGroup(CFDictionaryRef item);
CFStringRef IOReportChannelGetChannelName(CFDictionaryRef item);
CFStringRef IOReportChannelGetUnitLabel(CFDictionaryRef item);
int64_t IOReportSimpleGetIntegerValue(CFDictionaryRef item, int32_t index);
int32_t IOReportStateGetCount(CFDictionaryRef item);
CFStringRef IOReportStateGetNameForIndex(CFDictionaryRef item, int32_t index);
int64_t IOReportStateGetResidency(CFDictionaryRef item, int32_t index);
}

#endif
