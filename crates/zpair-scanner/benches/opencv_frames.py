"""An independent generator of monitor frames for the scanner benchmark.

`qr-frames` (the project's own generator) renders a scene in module units
and distorts it with its own models; the scanner was tuned on its frames, so
a second opinion must come from other hands. This one shares no code with
either: the QR is drawn by `segno` (not the project's encoder), the monitor
is drawn in screen pixels, photographed through a pinhole camera pose with
OpenCV's warps, and the camera is modelled in linear light with OpenCV's
filters: disc (defocus) and line (motion) kernels, a rolling shutter, a
Bayer sensor with shot and read noise demosaiced by OpenCV, exposure and
white balance errors, and the camera's JPEG encoder.

Usage (run by `cargo bench -p zpair-scanner --bench scanner` in a throwaway
venv with opencv-python-headless, numpy and segno from PyPI):

    python opencv_frames.py OUT_DIR --seed S --per-category N [--width W --height H]

Writes OUT_DIR/<category>/<i>.png with the expected text in <i>.txt (the
layout the bench reads for any folder) and OUT_DIR/manifest.json: one entry
per frame with its file, category, expected text and the parameters drawn.
Every frame follows from (seed, category, index) alone, so a frame does not
change when the count changes.
"""

import argparse
import base64
import json
import math
import os
import sys

import cv2
import numpy as np
import segno

CATEGORIES = [
    "clean",
    "defocus",
    "motion",
    "small",
    "rolling_shutter",
    "jpeg",
    "exposure",
    "subpixel",
    "perspective",
    "combined",
    "distant",
]

# Camera focal length in pixels for a 1280-px-wide frame: a tablet's
# ~65 degree horizontal field of view.
FOCAL_AT_1280 = 1000.0
QUIET_MODULES = 4
PAIRING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
WARDS = ["ICU", "CCU", "NICU", "PICU", "ER", "OR", "MED4", "SURG2", "CARDIO", "ONC"]


# --------------------------------------------------------------------------
# The payload a monitor shows: the protocol's JSON, field order as on the wire.


def monitor_payload(rng):
    letters = "".join(PAIRING_ALPHABET[i] for i in rng.integers(0, len(PAIRING_ALPHABET), 9))
    token = base64.urlsafe_b64encode(bytes(rng.integers(0, 256, 16).tolist()))
    fields = {
        "deviceId": f"ZM-{WARDS[rng.integers(len(WARDS))]}-{rng.integers(1, 60):02d}",
        "deviceSerial": f"SN-{rng.integers(2018, 2027)}-{rng.integers(0, 1_000_000):06d}",
        "ipAddress": f"127.0.0.{rng.integers(2, 254)}",
        "pairingCode": f"{letters[:3]}-{letters[3:6]}-{letters[6:]}",
        "pairingToken": token.rstrip(b"=").decode("ascii"),
        "expiresAt": (
            f"2026-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
            f"T{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:00Z"
        ),
        "firmwareVersion": f"{rng.integers(1, 5)}.{rng.integers(0, 12)}.{rng.integers(0, 30)}",
    }
    return json.dumps(fields, separators=(",", ":"))


def qr_modules(text):
    """The code's modules (1 = dark), error correction H as a monitor draws it."""
    code = segno.make(text, error="h", boost_error=False, micro=False)
    return np.array(code.matrix, dtype=np.uint8)


# --------------------------------------------------------------------------
# The monitor's screen, in screen pixels (BGR).


def draw_screen(rng, modules, module_px, text):
    n = modules.shape[0]
    qr_side = (n + 2 * QUIET_MODULES) * module_px
    height = max(600, qr_side + 160)
    width = int(height * 1.6)
    bg = int(rng.integers(8, 40))
    screen = np.full((height, width, 3), bg, np.uint8)
    # Header bar and text.
    cv2.rectangle(screen, (0, 0), (width, 44), (60, 45, 30), -1)
    cv2.putText(screen, "Z Monitor  pairing", (16, 31), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (230, 230, 230), 2, cv2.LINE_AA)
    # Waveforms on the left: ECG, pleth, respiration.
    colours = [(80, 230, 80), (230, 230, 60), (230, 200, 255)]
    left = width - qr_side - 60
    for k, colour in enumerate(colours):
        y0 = 110 + k * (height - 160) // 3
        xs = np.arange(20, max(40, left - 40), 3)
        phase = rng.uniform(0, 2 * math.pi)
        ys = y0 + 28 * np.sin(xs / (18 + 9 * k) + phase) * np.exp(-((xs % 160) - 40) ** 2 / 900.0 * (k == 0))
        pts = np.stack([xs, ys], 1).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(screen, [pts], False, colour, 2, cv2.LINE_AA)
        cv2.putText(screen, ["HR 72", "SpO2 98", "RR 16"][k], (max(30, left - 170), y0 - 30),
                    cv2.FONT_HERSHEY_DUPLEX, 1.0, colour, 2, cv2.LINE_AA)
    # The code's light panel with its quiet zone, modules on screen pixels.
    x0 = width - qr_side - 30
    y0 = (height - qr_side) // 2 + 10
    light = int(rng.integers(215, 256))
    dark = int(rng.integers(0, 35))
    panel = np.where(np.kron(modules, np.ones((module_px, module_px), np.uint8)) > 0, dark, light)
    panel = np.pad(panel, QUIET_MODULES * module_px, constant_values=light).astype(np.uint8)
    screen[y0:y0 + qr_side, x0:x0 + qr_side] = panel[:, :, None]
    code = json.loads(text)["pairingCode"]
    cv2.putText(screen, code, (x0 + 10, min(height - 8, y0 + qr_side + 40)),
                cv2.FONT_HERSHEY_SIMPLEX, 1.1, (240, 240, 240), 2, cv2.LINE_AA)
    # A plastic bezel around the panel.
    bezel = int(rng.integers(35, 90))
    screen = cv2.copyMakeBorder(screen, bezel, bezel, bezel, bezel, cv2.BORDER_CONSTANT,
                                value=(int(rng.integers(40, 90)),) * 3)
    centre = (x0 + qr_side / 2 + bezel, y0 + qr_side / 2 + bezel)
    return screen, centre, qr_side


def subpixel_screen(screen):
    """Each screen pixel as an RGB stripe triad with a dark gap row: 3x3 cells."""
    h, w, _ = screen.shape
    out = np.zeros((h * 3, w * 3, 3), np.uint8)
    for stripe, channel in enumerate((2, 1, 0)):  # R, G, B left to right
        column = np.repeat(screen[:, :, channel], 3, axis=0)
        out[:, stripe::3, channel] = column
    out[2::3, :, :] = (out[2::3, :, :] * 0.35).astype(np.uint8)
    return out


# --------------------------------------------------------------------------
# The room behind the monitor.


def draw_room(rng, width, height):
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(70, 170)
    gx, gy = rng.uniform(-0.06, 0.06, 2)
    grey = base + gx * (xs - width / 2) + gy * (ys - height / 2)
    room = np.repeat(grey[:, :, None], 3, 2)
    room *= rng.uniform(0.85, 1.15, 3)[None, None, :]
    room = np.clip(room, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(40, width // 2)), int(rng.integers(40, height // 2))
        colour = tuple(int(c) for c in rng.integers(20, 230, 3))
        cv2.rectangle(room, (x0, y0), (x0 + w, y0 + h), colour, -1)
    return cv2.GaussianBlur(room, (0, 0), rng.uniform(2.0, 6.0))


# --------------------------------------------------------------------------
# Pose: the screen plane seen by a pinhole camera.


def rotation(yaw, pitch, roll):
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


def pose_homography(rng, size, screen_shape, code_centre, code_side, p):
    """Screen pixels to camera pixels for the pose in p; the code p['code_px']
    wide (face-on equivalent) somewhere in the frame, wholly in view."""
    width, height = size
    focal = FOCAL_AT_1280 * width / 1280.0
    r = rotation(math.radians(p["yaw"]), math.radians(p["pitch"]), math.radians(p["roll"]))
    distance = focal * code_side / p["code_px"]

    def project(points, centre):
        out = []
        for x, y in points:
            v = r @ np.array([x - code_centre[0], y - code_centre[1], 0.0]) + np.array([0, 0, distance])
            out.append((focal * v[0] / v[2] + centre[0], focal * v[1] / v[2] + centre[1]))
        return np.array(out, np.float32)

    half = code_side / 2
    code_corners = [(code_centre[0] + dx, code_centre[1] + dy)
                    for dx, dy in ((-half, -half), (half, -half), (half, half), (-half, half))]
    probe = project(code_corners, (0.0, 0.0))
    lo, hi = probe.min(0), probe.max(0)
    margin = 6.0
    cx = rng.uniform(margin - lo[0], max(margin - lo[0], width - margin - hi[0]))
    cy = rng.uniform(margin - lo[1], max(margin - lo[1], height - margin - hi[1]))
    h_, w_ = screen_shape[:2]
    corners = [(0, 0), (w_, 0), (w_, h_), (0, h_)]
    src = np.array(corners, np.float32)
    dst = project(corners, (cx, cy))
    return cv2.getPerspectiveTransform(src, dst), project(code_corners, (cx, cy))


def composite(room, screen, homography, supersample):
    """The screen warped into the room, integrated over camera pixels."""
    height, width = room.shape[:2]
    h_, w_ = screen.shape[:2]
    corners = cv2.perspectiveTransform(
        np.array([[(0, 0), (w_, 0), (w_, h_), (0, h_)]], np.float32), homography)[0]
    x0 = int(max(0, math.floor(corners[:, 0].min()) - 2))
    y0 = int(max(0, math.floor(corners[:, 1].min()) - 2))
    x1 = int(min(width, math.ceil(corners[:, 0].max()) + 2))
    y1 = int(min(height, math.ceil(corners[:, 1].max()) + 2))
    if x1 <= x0 or y1 <= y0:
        return room
    s = supersample
    to_roi = np.array([[s, 0, -x0 * s], [0, s, -y0 * s], [0, 0, 1]], np.float64) @ homography
    size = ((x1 - x0) * s, (y1 - y0) * s)
    warped = cv2.warpPerspective(screen, to_roi, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h_, w_), 255, np.uint8), to_roi, size, flags=cv2.INTER_LINEAR)
    if s > 1:
        warped = cv2.resize(warped, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    alpha = mask.astype(np.float32)[:, :, None] / 255.0
    out = room.copy()
    roi = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(roi * (1 - alpha) + warped.astype(np.float32) * alpha, 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------
# The camera, in linear light.


def disc_kernel(radius):
    """A defocused lens: a uniform disc, edges anti-aliased by 8x8 sampling."""
    r = max(radius, 0.5)
    half = int(math.ceil(r))
    k = 8
    n = (2 * half + 1) * k
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    centre = (n - 1) / 2.0
    inside = ((xs - centre) ** 2 + (ys - centre) ** 2 <= (r * k) ** 2).astype(np.float32)
    kernel = cv2.resize(inside, (2 * half + 1, 2 * half + 1), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


def line_kernel(length, degrees):
    """A hand's motion during the exposure: a straight line, anti-aliased."""
    half = int(math.ceil(length / 2)) + 1
    k = 8
    n = (2 * half + 1) * k
    canvas = np.zeros((n, n), np.float32)
    c = (n - 1) / 2.0
    dx = math.cos(math.radians(degrees)) * length * k / 2
    dy = math.sin(math.radians(degrees)) * length * k / 2
    cv2.line(canvas, (int(round(c - dx)), int(round(c - dy))),
             (int(round(c + dx)), int(round(c + dy))), 1.0, k, cv2.LINE_AA)
    kernel = cv2.resize(canvas, (2 * half + 1, 2 * half + 1), interpolation=cv2.INTER_AREA)
    return kernel / max(kernel.sum(), 1e-6)


def rolling_shutter(lin, shear, wobble, stretch):
    """Rows exposed one after another while the camera moves: each row is
    shifted by where the camera was when it was read out."""
    height, width = lin.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = ys / height - 0.5
    map_x = xs + shear * height * t + wobble[0] * np.sin(2 * math.pi * wobble[1] * t + wobble[2])
    map_y = (ys - height / 2) * (1 + stretch) + height / 2
    return cv2.remap(lin, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def sensor(rng, lin, p):
    """Exposure, white balance, RGGB mosaic with shot and read noise, OpenCV's
    demosaicing, gamma, and the camera's JPEG encoder."""
    lin = lin * p["exposure"]
    lin = lin * np.array(p["wb_gains"], np.float32)[None, None, :]  # B, G, R
    full = 4095.0
    height, width = lin.shape[:2]
    raw = np.empty((height, width), np.float32)
    # RGGB: R at even rows/even columns, B at odd/odd.
    raw[0::2, 0::2] = lin[0::2, 0::2, 2]
    raw[0::2, 1::2] = lin[0::2, 1::2, 1]
    raw[1::2, 0::2] = lin[1::2, 0::2, 1]
    raw[1::2, 1::2] = lin[1::2, 1::2, 0]
    raw = np.clip(raw, 0, 1) * full
    sigma = np.sqrt(p["read_noise"] ** 2 + p["shot_noise"] * raw)
    raw = raw + rng.standard_normal(raw.shape).astype(np.float32) * sigma
    raw = np.clip(raw, 0, full).astype(np.uint16)
    bgr = cv2.cvtColor(raw, cv2.COLOR_BayerBG2BGR).astype(np.float32) / full
    # The camera's own auto white balance only half-corrects the cast.
    out = np.power(np.clip(bgr, 0, 1), 1 / 2.2) * 255.0
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(p["jpeg_quality"])])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


# --------------------------------------------------------------------------
# Categories: what each varies, and how far.


def base_params(rng):
    return {
        "code_px": float(rng.uniform(200, 380)),
        "yaw": float(rng.uniform(-15, 15)),
        "pitch": float(rng.uniform(-12, 12)),
        "roll": float(rng.uniform(-25, 25)),
        "module_screen_px": int(rng.integers(3, 6)),
        "subpixel": False,
        "optics_sigma": float(rng.uniform(0.4, 0.7)),
        "defocus_px": 0.0,
        "motion_px": 0.0,
        "motion_deg": 0.0,
        "shear": 0.0,
        "wobble": [0.0, 1.0, 0.0],
        "stretch": 0.0,
        "exposure": float(rng.uniform(0.85, 1.1)),
        "wb_gains": [1.0, 1.0, 1.0],
        "read_noise": float(rng.uniform(2.0, 5.0)),
        "shot_noise": float(rng.uniform(0.3, 0.8)),
        "jpeg_quality": int(rng.integers(90, 97)),
    }


def module_px(p, modules):
    return p["code_px"] / modules


def vary(category, rng, p, modules):
    m = module_px(p, modules)
    if category == "defocus":
        # Disc radii from a third of a module to over one: several focus
        # misses for one code size.
        p["defocus_px"] = float(m * rng.choice([0.35, 0.6, 0.85, 1.1, 1.35]))
        p["optics_sigma"] = 0.0
    elif category == "motion":
        p["motion_px"] = float(m * rng.choice([0.75, 1.25, 1.75, 2.25, 2.75]))
        p["motion_deg"] = float(rng.uniform(0, 180))
    elif category == "small":
        # A monitor across the room: the code 40 to 120 pixels wide, 0.5 to
        # 1.5 pixels per module, below what a sampled grid can resolve.
        p["code_px"] = float(rng.uniform(40, 120))
        p["yaw"] = float(rng.uniform(-10, 10))
        p["pitch"] = float(rng.uniform(-8, 8))
    elif category == "distant":
        # Farther still readable: 1.5 to 2.5 pixels per module for a
        # monitor's version 15-16 code, where decoders give out.
        p["code_px"] = float(rng.uniform(120, 200))
        p["yaw"] = float(rng.uniform(-10, 10))
        p["pitch"] = float(rng.uniform(-8, 8))
    elif category == "rolling_shutter":
        p["shear"] = float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.18))
        p["wobble"] = [float(m * rng.uniform(0.2, 0.9)), float(rng.uniform(2, 6)), float(rng.uniform(0, 6.3))]
        p["stretch"] = float(rng.uniform(-0.08, 0.08))
        # The pan that skews the rows also smears them a little.
        p["motion_px"] = float(m * rng.uniform(0.2, 0.6))
        p["motion_deg"] = 0.0
    elif category == "jpeg":
        p["jpeg_quality"] = int(rng.integers(50, 91))
        p["code_px"] = float(rng.uniform(150, 260))
    elif category == "exposure":
        if rng.random() < 0.5:
            p["exposure"] = float(rng.uniform(0.12, 0.3))
            p["shot_noise"] = float(rng.uniform(0.8, 2.0))
        else:
            p["exposure"] = float(rng.uniform(2.5, 6.0))
        p["wb_gains"] = [float(g) for g in rng.uniform(0.55, 1.6, 3)]
    elif category == "subpixel":
        p["subpixel"] = True
        # Screen pixels near the camera's pixel pitch: the two grids beat.
        p["module_screen_px"] = int(rng.integers(3, 5))
        p["optics_sigma"] = float(rng.uniform(0.0, 0.3))
    elif category == "perspective":
        p["yaw"] = float(rng.choice([-1, 1]) * rng.uniform(35, 60))
        p["pitch"] = float(rng.choice([-1, 1]) * rng.uniform(10, 40))
        p["roll"] = float(rng.uniform(-180, 180))
    elif category == "combined":
        p["code_px"] = float(rng.uniform(110, 260))
        p["yaw"] = float(rng.uniform(-35, 35))
        p["pitch"] = float(rng.uniform(-25, 25))
        p["roll"] = float(rng.uniform(-180, 180))
        m = module_px(p, modules)
        p["defocus_px"] = float(m * rng.uniform(0.2, 0.6))
        p["motion_px"] = float(m * rng.uniform(0.3, 1.0))
        p["motion_deg"] = float(rng.uniform(0, 180))
        p["shear"] = float(rng.uniform(-0.06, 0.06))
        p["exposure"] = float(rng.choice([rng.uniform(0.3, 0.6), rng.uniform(1.4, 2.2)]))
        p["wb_gains"] = [float(g) for g in rng.uniform(0.75, 1.3, 3)]
        p["jpeg_quality"] = int(rng.integers(60, 86))
        p["subpixel"] = bool(rng.random() < 0.4)
    return p


def render(category, rng, width, height):
    text = monitor_payload(rng)
    modules = qr_modules(text)
    n = modules.shape[0]
    p = vary(category, rng, base_params(rng), n)
    screen, code_centre, code_side = draw_screen(rng, modules, p["module_screen_px"], text)
    scale = 1
    if p["subpixel"]:
        screen = subpixel_screen(screen)
        scale = 3
    # The pose is set for the code's modules, quiet zone excluded.
    code_side_px = n * p["module_screen_px"] * scale
    centre = (code_centre[0] * scale, code_centre[1] * scale)
    homography, _ = pose_homography(rng, (width, height), screen.shape, centre, code_side_px, p)
    room = draw_room(rng, width, height)
    # Integrate over each camera pixel, except for the sub-pixel screen, where
    # point sampling is what makes its grid beat with the sensor's.
    supersample = 1 if p["subpixel"] else max(2, min(6, int(math.ceil(2.0 * code_side_px / p["code_px"]))))
    frame = composite(room, screen, homography, supersample)
    lin = np.power(frame.astype(np.float32) / 255.0, 2.2)
    if p["optics_sigma"] > 0:
        lin = cv2.GaussianBlur(lin, (0, 0), p["optics_sigma"])
    if p["defocus_px"] > 0:
        lin = cv2.filter2D(lin, -1, disc_kernel(p["defocus_px"]), borderType=cv2.BORDER_REFLECT)
    if p["motion_px"] > 0:
        lin = cv2.filter2D(lin, -1, line_kernel(p["motion_px"], p["motion_deg"]), borderType=cv2.BORDER_REFLECT)
    if p["shear"] != 0 or p["wobble"][0] != 0 or p["stretch"] != 0:
        lin = rolling_shutter(lin, p["shear"], p["wobble"], p["stretch"])
    image = sensor(rng, lin, p)
    p["modules"] = int(n)
    p["module_px"] = round(p["code_px"] / n, 3)
    return text, image, p


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-category", type=int, default=20)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    args = parser.parse_args()
    manifest = []
    for category in args.categories.split(","):
        if category not in CATEGORIES:
            sys.exit(f"unknown category {category}")
        folder = os.path.join(args.out, category)
        os.makedirs(folder, exist_ok=True)
        index = CATEGORIES.index(category)
        for i in range(args.per_category):
            rng = np.random.default_rng([args.seed, index, i])
            text, image, params = render(category, rng, args.width, args.height)
            name = f"{i:03d}"
            cv2.imwrite(os.path.join(folder, name + ".png"), image)
            with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8", newline="") as f:
                f.write(text)
            manifest.append({
                "file": f"{category}/{name}.png",
                "category": category,
                "expected": text,
                "params": params,
            })
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": args.seed, "width": args.width, "height": args.height,
                   "frames": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
