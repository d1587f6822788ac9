#!/usr/bin/env python3
"""A real RTSP server (GStreamer's gst-rtsp-server) for the camera tests.

Serves a video file as H.264 over RTSP, looping, paced at the file's own rate, at
rtsp://127.0.0.1:PORT/MOUNT for each mount given. One encoder is shared by every client of a
mount. Prints "ready" once it listens; stops on SIGTERM or SIGINT.

  rtsp_server.py --port 8554 --video .data/vtest.avi --mounts cam1,cam2
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


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
    # The file loops (multifilesrc re-reads it at its end) so a camera never "ends".
    launch = (
        f"( multifilesrc location={args.video} loop=true ! decodebin ! videoconvert ! "
        f"videorate ! video/x-raw,framerate={args.fps}/1 ! clocksync ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=1500 ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    mounts = server.get_mount_points()
    for name in args.mounts.split(","):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
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
