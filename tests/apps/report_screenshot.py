#!/usr/bin/python3
"""Checks a browser screenshot of an rlreport page: are curves drawn inside a plot area?

usage: report_screenshot.py SHOT.png BACKGROUND CURVE
  BACKGROUND: the plot area's fill (rlreport's kPlotBackground), e.g. f7f9fc
  CURVE:      the first config's colour, e.g. 1f77b4

Decodes the PNG with the standard library only (zlib, the five PNG row filters), finds the
bounding box of the first plot area (the first band of rows rich in BACKGROUND pixels), and counts inside it the pixels of exactly CURVE (mean lines are opaque) and of the
band (CURVE at 20% over BACKGROUND, +-6 per channel). Prints
  plot X0 Y0 X1 Y1 curve N band M
or "no plot area" and exits with 1 when there is none.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append(line)
        previous = line
    pixel = lambda x, y: tuple(rows[y][x * channels:x * channels + 3])
    return width, height, pixel


def rgb(text):
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def main():
    path, background, curve = sys.argv[1], rgb(sys.argv[2]), rgb(sys.argv[3])
    width, height, pixel = read_png(path)
    # The plot area: the first band of rows with many BACKGROUND pixels (grid lines and
    # curves cross it, so a few rows without any are allowed inside).
    counts = [sum(pixel(x, y) == background for x in range(0, width, 2)) for y in range(height)]
    top = next((y for y in range(height) if counts[y] >= 100), None)
    if top is None:
        print("no plot area")
        return 1
    y1, gap = top, 0
    for y in range(top + 1, height):
        if counts[y] >= 20:
            y1, gap = y, 0
        else:
            gap += 1
            if gap > 4:
                break
    xs = [x for y in range(top, y1 + 1, 4) for x in range(width) if pixel(x, y) == background]
    x0, x1 = min(xs), max(xs)
    band = tuple(round(0.2 * c + 0.8 * b) for c, b in zip(curve, background))
    curve_pixels = band_pixels = 0
    for y in range(top, y1 + 1):
        for x in range(x0, x1 + 1):
            p = pixel(x, y)
            if p == curve:
                curve_pixels += 1
            elif all(abs(a - b) <= 6 for a, b in zip(p, band)):
                band_pixels += 1
    print(f"plot {x0} {top} {x1} {y1} curve {curve_pixels} band {band_pixels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
