"""An MJPEG-over-HTTP camera (multipart/x-mixed-replace) for ingest tests.

Usage: mjpeg_server.py PORT JPEG FRAMES_PER_CONNECTION CONNECTIONS
Serves CONNECTIONS clients one after another, each FRAMES_PER_CONNECTION frames at 20 fps,
then drops the connection (a camera that goes away mid-stream); after the last one it stops
listening, so reconnects are refused.
"""
import socket
import sys
import time

port, path, per_connection, connections = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
jpeg = open(path, "rb").read()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(4)
print("listening", flush=True)
c = 0
while c < connections:
    conn, _ = server.accept()
    if not conn.recv(65536):  # a reachability check that sends no request: not a client
        conn.close()
        continue
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n")
    try:
        for _ in range(per_connection):
            part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
            conn.sendall(part + jpeg + b"\r\n")
            time.sleep(0.05)
    except OSError:
        pass
    conn.close()
    c += 1
    print("dropped connection", c, flush=True)
server.close()
