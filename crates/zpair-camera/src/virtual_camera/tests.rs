use std::time::Duration;

use super::image::GONE_AFTER;
use super::*;
use crate::test_support::{ManualClock, blank_frame, png, qr_frame, write_atomically, y4m};

fn camera(path: &Path, fps: u32) -> (VirtualCamera, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let config = VirtualConfig {
        rate: FrameRate::per_second(fps).expect("rate"),
    };
    (VirtualCamera::new(path, config, clock.clone()), clock)
}

fn next(stream: &mut Box<dyn FrameStream>) -> GreyBuffer {
    let mut frame = GreyBuffer::default();
    let next = stream
        .next_frame(&mut frame, &StopSignal::new())
        .expect("frame");
    assert_eq!(next, Next::Frame);
    frame
}

#[test]
fn an_image_is_served_at_the_configured_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let (_, frame) = qr_frame(1);
    std::fs::write(&path, png(&frame)).expect("write");
    let (mut camera, clock) = camera(&path, 10);
    let (info, mut stream) = camera.open().expect("open");
    assert_eq!((info.width, info.height), (640, 480));
    assert_eq!(info.rate, FrameRate::per_second(10).expect("rate"));
    for n in 0..5 {
        assert_eq!(next(&mut stream), frame);
        assert_eq!(clock.now(), Duration::from_millis(100 * n));
    }
}

#[test]
fn a_replaced_image_is_shown_and_a_half_written_one_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let (_, first) = qr_frame(1);
    let (_, second) = qr_frame(2);
    std::fs::write(&path, png(&first)).expect("write");
    let (mut camera, _clock) = camera(&path, 30);
    let (_, mut stream) = camera.open().expect("open");
    assert_eq!(next(&mut stream), first);

    // A writer caught half-way: the stream keeps the last whole image.
    let whole = png(&second);
    std::fs::write(&path, &whole[..whole.len() / 2]).expect("write half");
    assert_eq!(next(&mut stream), first);
    assert_eq!(next(&mut stream), first);

    std::fs::write(&path, &whole).expect("write whole");
    assert_eq!(next(&mut stream), second);

    // And a monitor's atomic rename is picked up the same way.
    write_atomically(&path, &png(&first));
    assert_eq!(next(&mut stream), first);
}

#[test]
fn a_removed_image_ends_the_stream_only_after_a_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    let frame = blank_frame(64, 48, 200);
    std::fs::write(&path, png(&frame)).expect("write");
    let (mut camera, clock) = camera(&path, 10);
    let (_, mut stream) = camera.open().expect("open");
    assert_eq!(next(&mut stream), frame);
    std::fs::remove_file(&path).expect("remove");
    let mut buffer = GreyBuffer::default();
    let stop = StopSignal::new();
    let mut served = 0;
    let error = loop {
        match stream.next_frame(&mut buffer, &stop) {
            Ok(_) => {
                assert_eq!(buffer, frame, "the last image stays on show");
                served += 1;
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(error, CameraError::FileGone { .. }), "{error}");
    // At 10 fps, a frame per 100 ms through the whole grace period.
    assert_eq!(served, GONE_AFTER.as_millis() / 100);
    assert!(clock.now() >= GONE_AFTER);
}

#[test]
fn a_folder_plays_in_name_order_and_loops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frames: Vec<GreyBuffer> = (0..3).map(|i| blank_frame(32, 24, 10 + i * 50)).collect();
    std::fs::write(dir.path().join("b.png"), png(&frames[1])).expect("write");
    std::fs::write(dir.path().join("a.png"), png(&frames[0])).expect("write");
    std::fs::write(dir.path().join("c.PNG"), png(&frames[2])).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a frame").expect("write");
    let (mut camera, clock) = camera(dir.path(), 5);
    let (info, mut stream) = camera.open().expect("open");
    assert_eq!((info.width, info.height), (32, 24));
    for n in 0..7 {
        assert_eq!(next(&mut stream), frames[n % 3], "frame {n}");
        assert_eq!(clock.now(), Duration::from_millis(200 * n as u64));
    }
}

#[test]
fn a_late_reader_skips_folder_frames_like_a_camera() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frames: Vec<GreyBuffer> = (0..4).map(|i| blank_frame(8, 8, i * 60)).collect();
    for (i, f) in frames.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.png")), png(f)).expect("write");
    }
    let (mut camera, clock) = camera(dir.path(), 10);
    let (_, mut stream) = camera.open().expect("open");
    assert_eq!(next(&mut stream), frames[0]);
    clock.advance(Duration::from_millis(250));
    assert_eq!(next(&mut stream), frames[2]);
    assert_eq!(next(&mut stream), frames[3]);
}

#[test]
fn a_y4m_video_plays_at_its_own_rate_and_loops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("monitor.y4m");
    let frames: Vec<GreyBuffer> = (0..3).map(|i| blank_frame(16, 8, i * 100)).collect();
    std::fs::write(&path, y4m(&frames, 5)).expect("write");
    // The configured 30 fps is for images; the video says 5.
    let (mut camera, clock) = camera(&path, 30);
    let (info, mut stream) = camera.open().expect("open");
    assert_eq!(info.rate, FrameRate::per_second(5).expect("rate"));
    assert_eq!((info.width, info.height), (16, 8));
    for n in 0..5 {
        assert_eq!(next(&mut stream), frames[n % 3], "frame {n}");
        assert_eq!(clock.now(), Duration::from_millis(200 * n as u64));
    }
    // Late by 450 ms: slot 5 passed unread, so its frame is skipped and
    // slot 6 shows the one after.
    clock.advance(Duration::from_millis(450));
    assert_eq!(next(&mut stream), frames[(5 + 1) % 3]);
    assert_eq!(clock.now(), Duration::from_millis(1250));
}

#[test]
fn a_broken_video_is_a_typed_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.y4m");
    std::fs::write(&path, b"YUV4MPEG2 W16 H8 F5:1 Cmono\nFRAME\nshort").expect("write");
    let (mut camera, _) = camera(&path, 30);
    let error = camera.open().err().expect("truncated frame");
    assert!(
        matches!(
            error,
            CameraError::Video {
                source: Y4mError::Truncated { frame: 0 },
                ..
            }
        ),
        "{error}"
    );
    std::fs::write(&path, b"YUV4MPEG2 W16 H8 F5:1 Cmono\n").expect("write");
    let error = camera.open().err().expect("no frames");
    assert!(
        matches!(
            error,
            CameraError::Video {
                source: Y4mError::NoFrames,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn paths_that_cannot_be_played_say_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = |path: &Path| camera(path, 30).0.open().err().expect("refused");
    assert!(matches!(
        open(&dir.path().join("absent.png")),
        CameraError::FileNotFound { .. }
    ));
    assert!(matches!(open(dir.path()), CameraError::EmptyFolder { .. }));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").expect("write");
    assert!(matches!(open(&text), CameraError::UnsupportedFile { .. }));
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, "not a png").expect("write");
    assert!(matches!(open(&fake), CameraError::Decode { .. }));
}

#[test]
fn a_raised_stop_ends_the_wait_for_a_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("qr.png");
    std::fs::write(&path, png(&blank_frame(8, 8, 1))).expect("write");
    let (mut camera, _) = camera(&path, 30);
    let (_, mut stream) = camera.open().expect("open");
    let stop = StopSignal::new();
    let mut frame = GreyBuffer::default();
    assert_eq!(stream.next_frame(&mut frame, &stop).ok(), Some(Next::Frame));
    stop.raise();
    assert_eq!(
        stream.next_frame(&mut frame, &stop).ok(),
        Some(Next::Stopped)
    );
}

#[test]
fn an_mjpeg_video_plays_at_the_configured_rate_and_loops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("monitor.mjpeg");
    let levels = [20u8, 120, 220];
    let mut file = Vec::new();
    for level in levels {
        let frame = blank_frame(16, 8, level);
        ::image::codecs::jpeg::JpegEncoder::new_with_quality(&mut file, 90)
            .encode(&frame.pixels, 16, 8, ::image::ExtendedColorType::L8)
            .expect("encode");
    }
    std::fs::write(&path, file).expect("write");
    let (mut camera, clock) = camera(&path, 10);
    let (info, mut stream) = camera.open().expect("open");
    assert_eq!((info.width, info.height), (16, 8));
    for n in 0..5 {
        let frame = next(&mut stream);
        let level = levels[n % 3];
        assert!(
            frame.pixels.iter().all(|&p| p.abs_diff(level) <= 3),
            "frame {n}"
        );
        assert_eq!(clock.now(), Duration::from_millis(100 * n as u64));
    }
    std::fs::write(&path, b"\xff\xd8\xff\xe0\x00").expect("write");
    let error = camera.open().err().expect("cut short");
    assert!(
        matches!(
            error,
            CameraError::Mjpeg {
                source: MjpegError::Broken { frame: 0 },
                ..
            }
        ),
        "{error}"
    );
}
