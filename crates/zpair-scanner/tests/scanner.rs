//! The scanner on frames the project renders itself (`qr-frames`): a Z Monitor
//! payload at error correction level H in 1280x720 and 1920x1080 camera
//! frames with every distortion kind, dark-mode screens, several codes in
//! view, a frame that makes rqrr panic, and the live mode's mailbox and
//! duplicate suppression.
//!
//! No test here measures time: each scan gets a budget large enough for
//! every pass, so results do not depend on the machine; speed is the
//! benchmark's job (`cargo xtask bench scanner`).

use std::sync::mpsc;
use std::time::Duration;

use qr_frames::{Distortion, GreyImage, monitor_frame, render_frame, sample_payload};
use zpair_scanner::{
    GreyFrame, LiveConfig, LiveEvent, LiveScanner, Offer, ScanOutcome, Scanner, ScannerConfig,
};

/// Enough for every pass of the cascade even in a debug build on a busy
/// machine, so no pass is skipped for time.
const UNHURRIED: Duration = Duration::from_secs(60);

/// Longest a live test waits for the worker before failing instead of hanging.
const WORKER_TIMEOUT: Duration = Duration::from_secs(120);

fn unhurried() -> Scanner {
    Scanner::new(ScannerConfig { budget: UNHURRIED })
}

fn frame(image: &GreyImage) -> GreyFrame<'_> {
    GreyFrame::new(&image.pixels, image.width, image.height).expect("rendered frames are valid")
}

fn scan(image: &GreyImage) -> ScanOutcome {
    unhurried().scan(frame(image))
}

/// Scans `seeds` frames of each distortion kind at `width`x`height` and
/// returns, per kind, the seeds whose payload was not read byte for byte as
/// the first detection.
fn misses(width: u32, height: u32, seeds: std::ops::Range<u64>) -> Vec<(Distortion, Vec<u64>)> {
    Distortion::ALL
        .iter()
        .map(|&kind| {
            let missed = seeds
                .clone()
                .filter(|&seed| {
                    let (payload, image) =
                        monitor_frame(width, height, kind, seed).expect("renders");
                    let outcome = scan(&image);
                    assert_eq!(outcome.panics_caught, 0, "{} seed {seed}", kind.name());
                    outcome.detections.first().map(|d| d.text.as_str()) != Some(payload.as_str())
                })
                .collect();
            (kind, missed)
        })
        .collect()
}

/// No misses of any kind; the message lists every kind's misses.
fn assert_decoded(results: &[(Distortion, Vec<u64>)]) {
    let failing: Vec<String> = results
        .iter()
        .filter(|(_, missed)| !missed.is_empty())
        .map(|(kind, missed)| format!("{} missed seeds {missed:?}", kind.name()))
        .collect();
    assert!(failing.is_empty(), "{}", failing.join("; "));
}

#[test]
fn reads_every_distortion_kind_in_1280x720_frames() {
    assert_decoded(&misses(1280, 720, 0..4));
}

#[test]
fn reads_every_distortion_kind_in_1920x1080_frames() {
    assert_decoded(&misses(1920, 1080, 0..2));
}

/// The perspective set is where rxing finds the finder patterns but will
/// not group them (a far finder a third the size of the near one, a
/// foreshortened diagonal): a quarter of these frames read only once the
/// code is resampled face-on, so this fails without the perspective pass.
#[test]
fn reads_steeply_tilted_codes() {
    let missed: Vec<u64> = (0..12)
        .filter(|&seed| {
            let (payload, image) =
                monitor_frame(1280, 720, Distortion::Perspective, seed).expect("renders");
            let outcome = scan(&image);
            outcome.detections.first().map(|d| d.text.as_str()) != Some(payload.as_str())
        })
        .collect();
    assert!(missed.is_empty(), "missed seeds {missed:?}");
}

/// `image` through a defocused lens: each pixel the mean over a disc of
/// `radius` pixels around it.
fn defocus(image: &GreyImage, radius: f32) -> GreyImage {
    let r = radius.ceil() as i64;
    let taps: Vec<(i64, i64)> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| ((dx * dx + dy * dy) as f32) <= radius * radius)
        .collect();
    let (w, h) = (i64::from(image.width), i64::from(image.height));
    let mut pixels = vec![0u8; image.pixels.len()];
    for y in 0..h {
        for x in 0..w {
            let sum: u64 = taps
                .iter()
                .map(|&(dx, dy)| {
                    let (sx, sy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
                    u64::from(image.pixels[(sy * w + sx) as usize])
                })
                .sum();
            pixels[(y * w + x) as usize] = (sum / taps.len() as u64) as u8;
        }
    }
    GreyImage {
        pixels,
        ..image.clone()
    }
}

/// A monitor across the room: its `side`-pixel-wide frame in the middle of
/// a 1280x720 frame of a flat wall.
fn distant(side: u32, seed: u64) -> (String, GreyImage) {
    let height = side * 9 / 16;
    let (payload, small) = monitor_frame(side, height, Distortion::Clean, seed).expect("renders");
    let (w, h) = (1280usize, 720usize);
    let (x0, y0) = ((w - side as usize) / 2, (h - height as usize) / 2);
    let mut pixels = vec![90u8; w * h];
    for (y, row) in small.pixels.chunks_exact(side as usize).enumerate() {
        let start = (y0 + y) * w + x0;
        pixels[start..start + row.len()].copy_from_slice(row);
    }
    let image = GreyImage {
        width: 1280,
        height: 720,
        pixels,
    };
    (payload, image)
}

/// What rxing reads in the whole frame and in the frame halved: what the
/// cascade's whole-frame passes see.
fn whole_frame_reads(image: &GreyImage) -> Vec<String> {
    use rxing::common::HybridBinarizer;
    use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source, MultiFormatReader, Reader};
    let halved = image::imageops::resize(
        &image::GrayImage::from_raw(image.width, image.height, image.pixels.clone())
            .expect("sized"),
        image.width / 2,
        image.height / 2,
        image::imageops::FilterType::Triangle,
    );
    let hints = DecodeHints {
        PossibleFormats: Some(std::collections::HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    [
        (&image.pixels, image.width, image.height),
        (halved.as_raw(), image.width / 2, image.height / 2),
    ]
    .into_iter()
    .filter_map(|(pixels, w, h)| {
        let source = Luma8Source::new_with_slice(pixels, w, h).ok()?;
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        let result = MultiFormatReader::default().decode_with_hints(&mut bitmap, &hints);
        result.ok().map(|r| r.getText().to_owned())
    })
    .collect()
}

/// The outline a scan reports lies on the code: inside the frame, and
/// around its centre.
fn assert_outlined_near(outcome: &ScanOutcome, (cx, cy): (f32, f32), half_side: f32) {
    let corners = outcome.detections[0].corners.expect("an outline");
    for (x, y) in corners {
        assert!(
            (x - cx).abs() < half_side && (y - cy).abs() < half_side,
            "corner ({x}, {y}) is not on the code at ({cx}, {cy}): {corners:?}"
        );
    }
}

/// Defocus of a disc 4 pixels across (about a module) leaves rxing unable
/// to find the finder patterns anywhere in the frame; sharpening the region
/// the code is in restores them. Fails without the sharpened-region pass.
#[test]
fn a_defocused_code_reads_once_its_region_is_sharpened() {
    let (payload, clean) = monitor_frame(1280, 720, Distortion::Clean, 1).expect("renders");
    let blurred = defocus(&clean, 4.0);
    assert!(
        whole_frame_reads(&blurred).is_empty(),
        "rxing reads it without help"
    );
    let clean_outline = scan(&clean).detections[0].corners.expect("outlined");
    let outcome = scan(&blurred);
    assert_eq!(
        outcome.detections.first().map(|d| d.text.as_str()),
        Some(payload.as_str()),
        "{outcome:?}"
    );
    let centre = clean_outline
        .iter()
        .fold((0.0, 0.0), |(x, y), &(cx, cy)| (x + cx / 4.0, y + cy / 4.0));
    assert_outlined_near(&outcome, centre, 220.0);
    assert_eq!(outcome.panics_caught, 0);
}

/// A monitor far enough away that its code is under two pixels per module
/// (a 480-pixel view of it in a 1280x720 frame, slightly out of focus):
/// binarizing the frame merges modules, binarizing the enlarged, sharpened
/// region does not. Fails without the enlarged-region pass.
#[test]
fn a_distant_code_reads_once_its_region_is_enlarged() {
    let (payload, image) = distant(480, 1);
    let image = defocus(&image, 1.0);
    assert!(
        whole_frame_reads(&image).is_empty(),
        "rxing reads it without help"
    );
    let outcome = scan(&image);
    assert_eq!(
        outcome.detections.first().map(|d| d.text.as_str()),
        Some(payload.as_str()),
        "{outcome:?}"
    );
    // The small frame, and with it the code, is centred in the large one.
    assert_outlined_near(&outcome, (640.0, 360.0), 240.0);
    assert_eq!(outcome.panics_caught, 0);
}

#[test]
fn a_decoded_frame_is_a_valid_pairing_payload() {
    let (payload, image) = monitor_frame(1280, 720, Distortion::Combined, 5).expect("renders");
    let outcome = scan(&image);
    let found = outcome.detections.first().expect("a code in the frame");
    assert_eq!(found.text, payload);
    assert!(found.z_monitor);
    let corners = found.corners.expect("the decoders report an outline");
    assert!(
        corners
            .iter()
            .all(|&(x, y)| (0.0..=1280.0).contains(&x) && (0.0..=720.0).contains(&y)),
        "outline {corners:?} is in frame coordinates"
    );
    // What was read is a monitor's payload, field for field.
    let monitor: zpair_proto::QrPayload =
        serde_json::from_str(&found.text).expect("a Z Monitor payload");
    assert!(payload.contains(&monitor.device_id));
}

#[test]
fn dark_mode_screens_are_read_through_inversion() {
    for seed in 0..3 {
        let (payload, image) =
            monitor_frame(1280, 720, Distortion::Inverted, seed).expect("renders");
        let texts: Vec<String> = scan(&image)
            .detections
            .into_iter()
            .map(|d| d.text)
            .collect();
        assert_eq!(texts, [payload], "seed {seed}");
    }
}

#[test]
fn z_monitor_payload_comes_first_among_several_codes() {
    let monitor = sample_payload(11);
    let asset = "https://assets.example-hospital.org/equipment/INF-PUMP-0042";
    let wifi = "WIFI:T:WPA;S:ward-guest;P:visitor-2024;;";
    // The monitor's code in the middle, so order of appearance is not enough.
    let image =
        render_frame(&[asset, &monitor, wifi], 1920, 1080, Distortion::Clean, 3).expect("renders");
    let outcome = scan(&image);
    let texts: Vec<&str> = outcome.detections.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(texts.first(), Some(&monitor.as_str()), "found {texts:?}");
    assert!(outcome.detections[0].z_monitor);
    assert!(
        texts.contains(&asset) && texts.contains(&wifi),
        "found {texts:?}"
    );
    assert!(outcome.detections[1..].iter().all(|d| !d.z_monitor));
}

#[test]
fn frames_without_a_code_return_empty_without_panics() {
    let flat = vec![128u8; 640 * 480];
    // A fixed pseudo-random texture: edges everywhere, no code.
    let mut state = 0x9E37_79B9_u32;
    let noise: Vec<u8> = (0..640 * 480)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect();
    for pixels in [&flat, &noise] {
        let outcome = unhurried().scan(GreyFrame::new(pixels, 640, 480).expect("valid"));
        assert!(outcome.detections.is_empty());
        assert_eq!(outcome.panics_caught, 0);
        assert!(outcome.passes_run > 1, "an unhurried scan tries every pass");
        assert_eq!(outcome.passes_skipped, 0);
    }
}

#[test]
fn an_exhausted_budget_stops_the_cascade_after_one_pass() {
    let (_, image) = monitor_frame(1280, 720, Distortion::Clean, 0).expect("renders");
    // Blank the code out so no pass succeeds early.
    let blank = vec![40u8; image.pixels.len()];
    let scanner = Scanner::new(ScannerConfig {
        budget: Duration::ZERO,
    });
    let outcome = scanner.scan(GreyFrame::new(&blank, image.width, image.height).expect("valid"));
    assert_eq!(outcome.passes_run, 1);
    assert!(outcome.passes_skipped > 0);
}

/// A finder pattern placed in a frame: its top-left in code modules, the
/// linear map from code modules to its own, and a shift in modules.
type Finder = ((f64, f64), [f64; 4], (f64, f64));

/// A 160x160 frame that makes rqrr 0.11 panic: three finder patterns laid out
/// as a version-1 code, two of them turned and sheared so the lines rqrr
/// extends from their edges meet where its grid perspective degenerates
/// (`assertion failed: x <= i32::MAX as f64` in `Perspective::map`, the
/// assertion of rqrr issue #54). Found by a search over such layouts; rounded
/// to two decimals, it still panics.
fn rqrr_panic_frame() -> GreyImage {
    const SIDE: usize = 160;
    const MODULE_PX: f64 = 4.93;
    const ORIGIN: (f64, f64) = (19.65, 11.63);
    const FINDERS: [Finder; 3] = [
        ((0.0, 0.0), [1.0, 0.0, 0.0, 1.0], (0.0, 0.0)),
        ((14.0, 0.0), [1.16, 0.72, -0.72, 0.6], (-0.21, 1.1)),
        ((0.0, 14.0), [0.92, -0.48, 0.48, 0.52], (-1.43, -1.74)),
    ];
    let mut pixels = vec![255u8; SIDE * SIDE];
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = ((i % SIDE) as f64, (i / SIDE) as f64);
        let (gu, gv) = ((x - ORIGIN.0) / MODULE_PX, (y - ORIGIN.1) / MODULE_PX);
        for ((fx, fy), m, (sx, sy)) in FINDERS {
            let (du, dv) = (gu - fx - 3.5 - sx, gv - fy - 3.5 - sy);
            let (u, v) = (m[0] * du + m[1] * dv + 3.5, m[2] * du + m[3] * dv + 3.5);
            if (0.0..7.0).contains(&u) && (0.0..7.0).contains(&v) {
                // Rings 3 (outer) and 0–1 (core) dark, ring 2 light.
                let ring = (u.floor() - 3.0).abs().max((v.floor() - 3.0).abs());
                *px = if ring == 2.0 { 255 } else { 0 };
            }
        }
        // Timing patterns between the finders.
        let (iu, iv) = (gu.floor(), gv.floor());
        let timing =
            (iv == 6.0 && (8.0..13.0).contains(&iu)) || (iu == 6.0 && (8.0..13.0).contains(&iv));
        if timing && (iu + iv) % 2.0 == 0.0 {
            *px = 0;
        }
    }
    GreyImage {
        width: SIDE as u32,
        height: SIDE as u32,
        pixels,
    }
}

/// Keeps the regression test honest: if an rqrr upgrade stops panicking on
/// this frame, this fails and a new input is needed.
#[test]
fn the_regression_frame_still_makes_rqrr_panic() {
    let image = rqrr_panic_frame();
    let width = image.width as usize;
    let outcome = std::panic::catch_unwind(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, width, |x, y| {
            image.pixels[y * width + x]
        });
        prepared.detect_grids().len()
    });
    assert!(outcome.is_err(), "rqrr no longer panics on this frame");
}

#[test]
fn an_rqrr_panic_is_contained_and_counted() {
    let image = rqrr_panic_frame();
    let outcome = unhurried().scan(frame(&image));
    assert!(outcome.panics_caught >= 1, "{outcome:?}");
    // The scanner still finishes the cascade after the panic.
    assert!(outcome.passes_run > 1);
}

/// A live scanner whose budget never skips a pass, and the receiving end of
/// its events.
fn start_live(forget_after: u32) -> (LiveScanner, mpsc::Receiver<LiveEvent>) {
    let (tx, rx) = mpsc::channel();
    let config = LiveConfig {
        frame_interval: UNHURRIED,
        forget_after,
    };
    let live = LiveScanner::start(config, move |event| {
        let _ = tx.send(event);
    })
    .expect("worker starts");
    (live, rx)
}

/// Offers `image` and waits until the worker has scanned it.
fn offer_and_wait(live: &LiveScanner, image: &GreyImage) {
    let before = live.stats().processed;
    assert_eq!(live.offer(frame(image)), Offer::Accepted);
    let start = std::time::Instant::now();
    while live.stats().processed == before {
        assert!(
            start.elapsed() < WORKER_TIMEOUT,
            "the worker never scanned the frame"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn blank_like(image: &GreyImage) -> GreyImage {
    GreyImage {
        pixels: vec![30; image.pixels.len()],
        ..image.clone()
    }
}

#[test]
fn live_mode_announces_a_payload_once_while_it_stays_in_view() {
    let (payload, code) = monitor_frame(1280, 720, Distortion::Clean, 2).expect("renders");
    let blank = blank_like(&code);
    let (live, events) = start_live(2);
    // In view, one missed decode, in view again: one announcement.
    for image in [&code, &code, &blank, &code, &code] {
        offer_and_wait(&live, image);
    }
    // Out of view for longer than `forget_after`, then back: announced again.
    for image in [&blank, &blank, &blank, &code] {
        offer_and_wait(&live, image);
    }
    let stats = live.finish();
    let events: Vec<LiveEvent> = events.iter().collect();
    let announced: Vec<(u64, Vec<String>)> = events
        .iter()
        .filter(|e| !e.detections.is_empty())
        .map(|e| {
            (
                e.frame,
                e.detections.iter().map(|d| d.text.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(announced, [(0, vec![payload.clone()]), (8, vec![payload])]);
    // Every frame that read the code says where it is, so an outline can
    // follow it; frames without it say nothing.
    let outlined: Vec<u64> = events
        .iter()
        .filter(|e| e.outline.is_some())
        .map(|e| e.frame)
        .collect();
    assert_eq!(outlined, [0, 1, 3, 4, 8]);
    assert_eq!((stats.offered, stats.processed, stats.dropped), (9, 9, 0));
}

/// In a stream the cascade's later passes take turns, one per frame beside
/// the first; a code only one of them reads is still found within a round.
#[test]
fn live_mode_reads_a_code_only_a_later_pass_reads_within_one_round_of_frames() {
    // A steep tilt that only the perspective pass reads.
    let (payload, tilted) = monitor_frame(1280, 720, Distortion::Perspective, 10).expect("renders");
    let first_turn = unhurried().scan_in_turn(frame(&tilted), 0);
    assert!(first_turn.detections.is_empty(), "the first turn reads it");
    assert_eq!(first_turn.passes_run, 2);

    let (live, events) = start_live(30);
    // 1280x720 frames have 9 passes: the first and 8 others in turn.
    for _ in 0..8 {
        offer_and_wait(&live, &tilted);
    }
    drop(live);
    let found: Vec<(u64, String)> = events
        .iter()
        .flat_map(|e| e.detections.into_iter().map(move |d| (e.frame, d.text)))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let (frame_index, text) = &found[0];
    assert_eq!(text, &payload);
    // Not on the first frame: the whole cascade does not run on every frame.
    assert!(*frame_index > 0, "read on frame {frame_index}");
}

#[test]
fn a_live_frame_with_no_code_costs_two_passes_not_the_whole_cascade() {
    let (_, image) = monitor_frame(1280, 720, Distortion::Clean, 0).expect("renders");
    let blank = blank_like(&image);
    let whole = unhurried().scan(frame(&blank));
    assert!(whole.passes_run > 2, "{whole:?}");
    for n in 0..8 {
        let in_turn = unhurried().scan_in_turn(frame(&blank), n);
        assert_eq!(
            (in_turn.passes_run, in_turn.passes_skipped),
            (2, 0),
            "turn {n}"
        );
    }
}

#[test]
fn live_mode_drops_frames_rather_than_queueing_them() {
    let (_, code) = monitor_frame(1280, 720, Distortion::Clean, 4).expect("renders");
    // Another monitor, so duplicate suppression does not hide it.
    let (_, other) = monitor_frame(1280, 720, Distortion::Clean, 5).expect("renders");
    let blank = blank_like(&code);
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let config = LiveConfig {
        frame_interval: UNHURRIED,
        forget_after: 1,
    };
    // The callback holds the worker until the test releases it, so the
    // camera side provably keeps offering while a frame is being handled.
    let live = LiveScanner::start(config, move |event| {
        let _ = entered_tx.send(event.frame);
        let _ = release_rx.recv();
    })
    .expect("worker starts");
    assert_eq!(live.offer(frame(&code)), Offer::Accepted);
    assert_eq!(entered.recv_timeout(WORKER_TIMEOUT), Ok(0));
    assert_eq!(live.offer(frame(&blank)), Offer::Accepted);
    assert_eq!(live.offer(frame(&blank)), Offer::Replaced);
    assert_eq!(live.offer(frame(&other)), Offer::Replaced);
    assert_eq!(live.stats().dropped, 2);
    release.send(()).expect("worker waiting");
    // Only the newest frame is scanned after the busy one: frame 3.
    assert_eq!(entered.recv_timeout(WORKER_TIMEOUT), Ok(3));
    release.send(()).expect("worker waiting");
    let stats = live.finish();
    assert_eq!((stats.offered, stats.processed, stats.dropped), (4, 2, 2));
}

#[test]
fn live_worker_stops_on_finish_and_on_drop() {
    let (_, code) = monitor_frame(1280, 720, Distortion::Clean, 6).expect("renders");
    // finish() scans the frame still waiting, then ends the worker, which
    // drops the callback and with it the sender.
    let (live, events) = start_live(1);
    live.offer(frame(&code));
    let stats = live.finish();
    assert_eq!(stats.processed, 1);
    assert_eq!(events.iter().count(), 1, "the pending frame was scanned");
    assert!(matches!(
        events.try_recv(),
        Err(mpsc::TryRecvError::Disconnected)
    ));
    // Dropping ends the worker too.
    let (live, events) = start_live(1);
    drop(live);
    assert!(matches!(
        events.recv_timeout(WORKER_TIMEOUT),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

#[test]
fn live_mode_counts_contained_panics() {
    let image = rqrr_panic_frame();
    let (live, _events) = start_live(1);
    // rqrr's pass comes round within the 8 passes of a small frame's plan.
    for _ in 0..8 {
        offer_and_wait(&live, &image);
    }
    assert!(live.finish().panics_caught >= 1);
}
