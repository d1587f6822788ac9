#!/usr/bin/env python3
"""A real RTSP server (GStreamer's gst-rtsp-server) for the camera tests.

Serves a video file as H.264 over RTSP at rtsp://127.0.0.1:PORT/MOUNT for each mount given,
paced at --fps like a live camera and looping without a break (the file is decoded again from
its start at its end; the stream's clock goes on). One encoder is shared by all clients of a
mount. Prints "ready" once it listens; stops on SIGTERM or SIGINT.

  rtsp_server.py --port 8554 --video .data/vtest.avi --mounts cam1,cam2
"""
import argparse
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


class LoopingFrames:
    """Decodes the file to raw frames at a fixed rate, from its start again at its end."""

    def __init__(self, video, fps):
        self.fps = fps
        self.pipeline = Gst.parse_launch(
            f'filesrc location="{video}" ! decodebin ! videoconvert ! videorate ! '
            f"video/x-raw,format=I420,framerate={fps}/1 ! "
            "appsink name=out sync=false max-buffers=4 emit-signals=false")
        self.sink = self.pipeline.get_by_name("out")
        self.pipeline.set_state(Gst.State.PLAYING)

    def next(self):
        for _ in range(2):
            sample = self.sink.emit("try-pull-sample", 5 * Gst.SECOND)
            if sample is not None:
                return sample
            self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, 0)
        return None

    def close(self):
        self.pipeline.set_state(Gst.State.NULL)


class Feeder:
    """Pushes frames into a media's appsrc in real time, stamped on a continuing clock."""

    def __init__(self, appsrc, frames):
        self.appsrc = appsrc
        self.frames = frames
        self.n = 0
        self.start = None
        self.lock = threading.Lock()
        appsrc.connect("need-data", self.on_need_data)

    def on_need_data(self, src, _length):
        with self.lock:
            sample = self.frames.next()
            if sample is None:
                src.emit("end-of-stream")
                return
            if self.n == 0:
                src.set_property("caps", sample.get_caps())
                self.start = time.monotonic()
            due = self.start + self.n / self.frames.fps
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            buf = sample.get_buffer().copy()
            buf.pts = self.n * Gst.SECOND // self.frames.fps
            buf.dts = buf.pts
            buf.duration = Gst.SECOND // self.frames.fps
            self.n += 1
            src.emit("push-buffer", buf)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--video", required=True)
    ap.add_argument("--mounts", default="cam", help="comma-separated mount points")
    ap.add_argument("--fps", type=int, default=10, help="frame rate served")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    launch = (
        "( appsrc name=src is-live=true format=time ! videoconvert ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=1500 ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )

    def on_configure(_factory, media):
        frames = LoopingFrames(args.video, args.fps)
        appsrc = media.get_element().get_by_name_recurse_up("src")
        media.feeder = Feeder(appsrc, frames)
        media.connect("unprepared", lambda _m: frames.close())

    mounts = server.get_mount_points()
    for name in args.mounts.split(","):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        factory.connect("media-configure", on_configure)
        mounts.add_factory("/" + name, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
