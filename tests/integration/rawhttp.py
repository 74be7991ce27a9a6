"""Raw HTTP/1.1 against the api for the hostile-input tests (0012, 0013):
bytes in, whatever the framing, and the answers that came back out."""
import socket
import time


def exchange(port, raw, read_for):
    """Sends raw bytes to 127.0.0.1:port; returns [(status, body)] for the
    responses answered before the api closed or read_for seconds passed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_for)
    try:
        s.sendall(raw)
    except OSError:  # the api may close before it has read everything
        pass
    data, end = b"", time.time() + read_for
    try:
        while time.time() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    out = []
    for part in data.split(b"HTTP/1.1 ")[1:]:
        head, _, body = part.partition(b"\r\n\r\n")
        out.append((int(head.split()[0]), body))
    return out
