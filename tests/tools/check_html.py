#!/usr/bin/env python3
"""Checks a blast --html page the way a person would meet it.

  check_html.py parse PAGE.html       well-formed (every tag closed in order),
                                      no script, nothing fetched from outside
  check_html.py dom DOM.html ID...    in the DOM Chromium built: each chart
                                      <svg id=ID> is there, with a drawn path
  check_html.py png SHOT.png          a screenshot that is not blank

Exit 0 when good, 1 with one line per problem otherwise. Standard library only.
"""
import struct
import sys
import zlib
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
# Inside <svg>, these may be written self-closing.
SVG_LEAVES = {"path", "line", "rect", "circle", "polyline", "polygon", "ellipse", "stop"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.paths, self.svgs = [], [], {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.problems.append("a <script> element")
        for k in ("src", "href"):
            if k in a:
                self.problems.append(f"<{tag} {k}={a[k]!r}>: the page must need nothing else")
        if "style" in a and "url(" in (a["style"] or ""):
            self.problems.append(f"<{tag}> style fetches a url()")
        if tag == "svg":
            self.svgs.append(a.get("id"))
        if tag == "path" and self.svgs:
            self.paths.setdefault(self.svgs[-1], []).append(a.get("d") or "")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID and tag not in SVG_LEAVES:
            self.problems.append(f"<{tag}/> self-closed at line {self.getpos()[0]}")
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.problems.append(f"</{tag}> at line {self.getpos()[0]} closes nothing")
            return
        top, pos = self.stack.pop()
        if top != tag:
            self.problems.append(f"</{tag}> at line {self.getpos()[0]} closes <{top}> "
                                 f"from line {pos[0]}")


def points(d):
    return d.count("M") + d.count("L") + d.count("l") + d.count("H")


def parse(path, ids=()):
    p = Page()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.lstrip().lower().startswith("<!doctype html>") and not ids:
        p.problems.append("no <!DOCTYPE html> at the start")
    p.feed(text)
    p.close()
    for tag, pos in p.stack:
        if tag not in ("html", "head", "body") or not ids:
            p.problems.append(f"<{tag}> from line {pos[0]} is never closed")
    return p


def cmd_parse(path):
    p = parse(path)
    if not p.svgs:
        p.problems.append("no <svg> chart at all")
    return p.problems


def cmd_dom(path, ids):
    p = parse(path, ids)
    problems = [x for x in p.problems if "never closed" not in x]
    for i in ids:
        if i not in p.svgs:
            problems.append(f"no <svg id={i!r}> in the DOM")
            continue
        drawn = [d for d in p.paths.get(i, []) if points(d) >= 2 or "l" in d]
        if not drawn:
            problems.append(f"<svg id={i!r}> has no path with two points or more")
    return problems


def png_pixels(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG: (width, height, rows)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"PNG kind not handled (depth {depth}, colour type {ctype})")
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def cmd_png(path):
    w, h, bpp, rows = png_pixels(path)
    colours, inked = set(), 0
    for row in rows[::4]:
        for x in range(0, w * bpp, bpp * 4):
            px = row[x:x + 3]
            colours.add(px)
            if sum(px) < 600:  # clearly darker than the page's near-white
                inked += 1
    sampled = len(rows[::4]) * len(range(0, w * bpp, bpp * 4))
    problems = []
    if len(colours) < 8:
        problems.append(f"only {len(colours)} colours: the screenshot is blank")
    if inked < sampled // 200:
        problems.append(f"only {inked} of {sampled} sampled pixels carry ink")
    print(f"check_html: {w}x{h} screenshot, {len(colours)} colours, "
          f"{100.0 * inked / sampled:.1f}% inked")
    return problems


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, path = sys.argv[1], sys.argv[2]
    problems = {"parse": lambda: cmd_parse(path), "dom": lambda: cmd_dom(path, sys.argv[3:]),
                "png": lambda: cmd_png(path)}[mode]()
    for p in problems:
        print(f"check_html {mode}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
