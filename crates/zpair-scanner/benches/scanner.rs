//! Scanner benchmark: decoded count and per-image latency of the ZPair
//! scanner next to rxing alone (and ZXing-C++ with `--peers`), one decode
//! per image, single-threaded, grey pixels in, text compared byte for byte,
//! on frames from two independent generators and on real photos.
//!
//! ```text
//! cargo bench -p zpair-scanner --bench scanner -- [DIR] [--peers] [--sources LIST]
//!     [--frames N] [--per-category N] [--seed S] [--holdout-seed S] [--size WxH] [--misses]
//! ```
//!
//! Without DIR the bench reads these sources (`--sources` picks some,
//! comma-separated):
//!
//! - `qr-frames`: the project's own generator, `--frames` per distortion;
//! - `opencv`: `opencv_frames.py`, an independent generator (OpenCV, numpy
//!   and segno from PyPI in a throwaway venv; no code shared with the
//!   scanner or `qr-frames`), `--per-category` frames per category from
//!   `--seed`; the frames are written once under the target folder
//!   (`opencv-frames/`) with a manifest and reused;
//! - `holdout`: the same generator from `--holdout-seed`, frames no pass
//!   was tuned on;
//! - `photos`: `shared/qr-samples` beside the checkout, when it exists.
//!
//! DIR instead reads one folder of subfolders of `N.<png|jpg|webp>` +
//! `N.txt` (the expected text). `--peers` installs the `zxing-cpp` and
//! `pillow` wheels into a throwaway venv under the user cache and runs
//! `zxing_peer.py` on the same grey pixels. `--misses` lists each frame the
//! scanner misses and a peer reads.
//!
//! Besides one table per source, the bench times the live path: every
//! 1280x720 frame scanned as a camera stream scans it
//! ([`Scanner::scan_in_turn`] with the live scanner's default budget), each
//! turn of one round of the cascade's plan. The last line printed is always
//! `decoded N/M, median X ms, p95 Y ms` for the scanner on every still.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use qr_frames::Distortion;
use rxing::common::HybridBinarizer;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source, MultiFormatReader, Reader};
use zpair_scanner::{GreyFrame, LiveConfig, Scanner, ScannerConfig};

/// Frames per `qr-frames` distortion.
const DEFAULT_FRAMES: u64 = 20;
/// Frames per category of the OpenCV generator.
const DEFAULT_PER_CATEGORY: u64 = 20;
/// The OpenCV generator's seed the passes were measured on.
const DEFAULT_SEED: u64 = 1;
/// Its held-out seed: frames looked at only for the report.
const DEFAULT_HOLDOUT_SEED: u64 = 2;
/// Per-image budget of the scanner on stills (the default
/// [`ScannerConfig`]'s), unless `--budget MS` says otherwise.
const DEFAULT_BUDGET_MS: u64 = 40;
/// Turns of the live path timed per 1280x720 frame: one round of the
/// cascade's plan for such a frame (its first pass and each other in turn).
const LIVE_TURNS: u64 = 8;

/// Why the benchmark could not run (or could not run a generator or peer).
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0}")]
    Usage(&'static str),
    #[error("unknown option {0}")]
    UnknownOption(String),
    #[error("unknown source {0}: qr-frames, opencv, holdout or photos")]
    UnknownSource(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },
    #[error("{}: expected text is not UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("cannot render a frame: {0}")]
    Render(#[from] qr_frames::FrameError),
    #[error("cannot start {cmd}: {source}")]
    Spawn { cmd: String, source: std::io::Error },
    #[error("{cmd} failed: {status}")]
    Failed { cmd: String, status: ExitStatus },
    #[error("talking to zxing_peer.py: {0}")]
    PeerPipe(std::io::Error),
    #[error("zxing_peer.py printed a line that is not JSON: {0}")]
    PeerOutput(#[from] serde_json::Error),
    #[error("zxing_peer.py gave no result for {}", .0.display())]
    MissingPeerResult(PathBuf),
}

/// The ZXing-C++ peer: reads frame paths on stdin, prints what it decodes.
const ZXING_PEER: &str = include_str!("zxing_peer.py");
/// The independent frame generator.
const OPENCV_FRAMES: &str = include_str!("opencv_frames.py");

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_owned(),
        source,
    }
}

struct Sample {
    /// Where it came from, for `--misses`.
    label: String,
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    expected: String,
}

struct Set {
    name: String,
    samples: Vec<Sample>,
}

/// A titled group of sets with a table of its own.
struct Source {
    title: String,
    sets: Vec<Set>,
}

/// One decoder's results on one set.
#[derive(Default, Clone)]
struct Tally {
    decoded: usize,
    total: usize,
    /// Wall time per image.
    millis: Vec<f64>,
    /// The decoding thread's CPU time per image: what the decoder costs,
    /// whatever else the machine runs.
    cpu: Vec<f64>,
    panics: u64,
}

impl Tally {
    fn add(&mut self, ok: bool, time: Timing, panics: u64) {
        self.total += 1;
        self.decoded += usize::from(ok);
        self.millis.push(time.wall);
        self.cpu.push(time.cpu);
        self.panics += panics;
    }

    fn merge(&mut self, other: &Self) {
        self.decoded += other.decoded;
        self.total += other.total;
        self.millis.extend_from_slice(&other.millis);
        self.cpu.extend_from_slice(&other.cpu);
        self.panics += other.panics;
    }

    fn percentile(&self, q: f64) -> f64 {
        percentile(&self.millis, q)
    }

    fn cpu_percentile(&self, q: f64) -> f64 {
        percentile(&self.cpu, q)
    }
}

/// What one decode cost, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: f64,
}

/// This thread's CPU time in milliseconds.
fn thread_cpu_ms() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// Runs `f`, timing it on the wall clock and on this thread's CPU clock.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let (wall, cpu) = (Instant::now(), thread_cpu_ms());
    let out = f();
    let time = Timing {
        cpu: thread_cpu_ms() - cpu,
        wall: wall.elapsed().as_secs_f64() * 1000.0,
    };
    (out, time)
}

/// The 1-, 5- and 15-minute load averages, to read timings by.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn percentile(millis: &[f64], q: f64) -> f64 {
    if millis.is_empty() {
        return 0.0;
    }
    let mut v = millis.to_vec();
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() - 1) as f64 * q).round() as usize;
    v[idx.min(v.len() - 1)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    QrFrames,
    OpenCv,
    Holdout,
    Photos,
}

struct Options {
    dir: Option<PathBuf>,
    sources: Vec<SourceKind>,
    peers: bool,
    misses: bool,
    frames: u64,
    per_category: u64,
    seed: u64,
    holdout_seed: u64,
    size: (u32, u32),
    budget_ms: u64,
}

fn parse_sources(list: &str) -> Result<Vec<SourceKind>, BenchError> {
    list.split(',')
        .map(|s| match s {
            "qr-frames" => Ok(SourceKind::QrFrames),
            "opencv" => Ok(SourceKind::OpenCv),
            "holdout" => Ok(SourceKind::Holdout),
            "photos" => Ok(SourceKind::Photos),
            other => Err(BenchError::UnknownSource(other.to_owned())),
        })
        .collect()
}

fn parse_args() -> Result<Options, BenchError> {
    let mut opts = Options {
        dir: None,
        sources: vec![
            SourceKind::QrFrames,
            SourceKind::OpenCv,
            SourceKind::Holdout,
            SourceKind::Photos,
        ],
        peers: false,
        misses: false,
        frames: DEFAULT_FRAMES,
        per_category: DEFAULT_PER_CATEGORY,
        seed: DEFAULT_SEED,
        holdout_seed: DEFAULT_HOLDOUT_SEED,
        size: (1280, 720),
        budget_ms: DEFAULT_BUDGET_MS,
    };
    let mut args = std::env::args().skip(1);
    let number = |arg: Option<String>, what: &'static str| {
        arg.and_then(|n| n.parse().ok())
            .ok_or(BenchError::Usage(what))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench appends this to every harness = false target.
            "--bench" => {}
            "--peers" => opts.peers = true,
            "--misses" => opts.misses = true,
            "--frames" => opts.frames = number(args.next(), "--frames needs a number")?,
            "--per-category" => {
                opts.per_category = number(args.next(), "--per-category needs a number")?;
            }
            "--budget" => opts.budget_ms = number(args.next(), "--budget needs milliseconds")?,
            "--seed" => opts.seed = number(args.next(), "--seed needs a number")?,
            "--holdout-seed" => {
                opts.holdout_seed = number(args.next(), "--holdout-seed needs a number")?;
            }
            "--sources" => {
                let list = args
                    .next()
                    .ok_or(BenchError::Usage("--sources needs a list"))?;
                opts.sources = parse_sources(&list)?;
            }
            "--size" => {
                let size = BenchError::Usage("--size needs WxH");
                let s = args.next().ok_or(size)?;
                opts.size = s
                    .split_once('x')
                    .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
                    .ok_or(BenchError::Usage("--size needs WxH"))?;
            }
            other if other.starts_with("--") => {
                return Err(BenchError::UnknownOption(other.to_owned()));
            }
            other => opts.dir = Some(PathBuf::from(other)),
        }
    }
    Ok(opts)
}

fn load_dir(dir: &Path) -> Result<Vec<Set>, BenchError> {
    let mut sets = Vec::new();
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&sub)
            .map_err(io_error(&sub))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "png" | "jpg" | "jpeg" | "webp"))
            })
            .collect();
        files.sort();
        let mut samples = Vec::new();
        for f in files {
            let expected = match std::fs::read(f.with_extension("txt")) {
                Ok(bytes) => {
                    String::from_utf8(bytes).map_err(|_| BenchError::NotUtf8 { path: f.clone() })?
                }
                Err(_) => continue,
            };
            let grey = image::open(&f)
                .map_err(|source| BenchError::Image {
                    path: f.clone(),
                    source,
                })?
                .to_luma8();
            let (width, height) = grey.dimensions();
            samples.push(Sample {
                label: f.display().to_string(),
                width,
                height,
                pixels: grey.into_raw(),
                expected,
            });
        }
        if !samples.is_empty() {
            let name = sub
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            sets.push(Set { name, samples });
        }
    }
    Ok(sets)
}

fn generate(frames: u64, (w, h): (u32, u32)) -> Result<Vec<Set>, BenchError> {
    Distortion::ALL
        .iter()
        .map(|&d| {
            let samples = (0..frames)
                .map(|seed| {
                    let (expected, img) = qr_frames::monitor_frame(w, h, d, seed)?;
                    Ok(Sample {
                        label: format!("qr-frames {} seed {seed}", d.name()),
                        width: img.width,
                        height: img.height,
                        pixels: img.pixels,
                        expected,
                    })
                })
                .collect::<Result<Vec<_>, BenchError>>()?;
            Ok(Set {
                name: d.name().to_owned(),
                samples,
            })
        })
        .collect()
}

/// Where the user's cache is, for the throwaway venvs.
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("zpair-bench")
}

/// The target folder this bench was built into (`target/release/deps/..`),
/// where generated frames are kept between runs.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        })
        .unwrap_or_else(std::env::temp_dir)
}

/// A venv named `name` under the cache with `packages` installed; its
/// python.
fn venv(name: &str, packages: &[&str]) -> Result<PathBuf, BenchError> {
    let venv = cache_dir().join(name);
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("creating venv {}", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages))?;
    Ok(python)
}

/// FNV-1a, to name generated folders after the generator that made them.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Frames of the OpenCV generator for `seed`, rendered once into the target
/// folder (a new generator script renders anew).
fn opencv_frames(seed: u64, per: u64, (w, h): (u32, u32)) -> Result<Vec<Set>, BenchError> {
    let root = target_dir().join("opencv-frames");
    let name = format!("{:016x}-seed{seed}-{per}x-{w}x{h}", fnv(OPENCV_FRAMES));
    let dir = root.join(&name);
    if !dir.join("manifest.json").exists() {
        let python = venv("opencv-venv", &["opencv-python-headless", "numpy", "segno"])?;
        let partial = root.join(format!("{name}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).map_err(io_error(&partial))?;
        eprintln!(
            "rendering OpenCV frames (seed {seed}) into {}",
            dir.display()
        );
        run(Command::new(&python)
            .args(["-c", OPENCV_FRAMES])
            .arg(&partial)
            .args(["--seed", &seed.to_string()])
            .args(["--per-category", &per.to_string()])
            .args(["--width", &w.to_string(), "--height", &h.to_string()]))?;
        std::fs::rename(&partial, &dir).map_err(io_error(&dir))?;
    }
    load_dir(&dir)
}

/// `shared/qr-samples` beside the checkout.
fn photos_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/qr-samples")
}

fn load_sources(opts: &Options) -> Result<Vec<Source>, BenchError> {
    if let Some(dir) = &opts.dir {
        return Ok(vec![Source {
            title: dir.display().to_string(),
            sets: load_dir(dir)?,
        }]);
    }
    let (w, h) = opts.size;
    let mut sources = Vec::new();
    for kind in &opts.sources {
        let source = match kind {
            SourceKind::QrFrames => Source {
                title: format!("qr-frames, {w}x{h}, {} per distortion", opts.frames),
                sets: generate(opts.frames, opts.size)?,
            },
            SourceKind::OpenCv => Source {
                title: format!(
                    "OpenCV generator, seed {}, {w}x{h}, {} per category",
                    opts.seed, opts.per_category
                ),
                sets: opencv_frames(opts.seed, opts.per_category, opts.size)?,
            },
            SourceKind::Holdout => Source {
                title: format!(
                    "OpenCV generator, held-out seed {}, {w}x{h}, {} per category",
                    opts.holdout_seed, opts.per_category
                ),
                sets: opencv_frames(opts.holdout_seed, opts.per_category, opts.size)?,
            },
            SourceKind::Photos => {
                let dir = photos_dir();
                if !dir.is_dir() {
                    eprintln!("no photos at {}: skipped", dir.display());
                    continue;
                }
                Source {
                    title: "photos (shared/qr-samples)".to_owned(),
                    sets: load_dir(&dir)?,
                }
            }
        };
        sources.push(source);
    }
    Ok(sources)
}

/// Runs `decode` once on `sample`; returns (decoded?, time, panics).
fn time_one(
    sample: &Sample,
    decode: impl FnOnce(&[u8], u32, u32) -> (Vec<String>, u64),
) -> (bool, Timing, u64) {
    let ((texts, panics), time) = timed(|| decode(&sample.pixels, sample.width, sample.height));
    (texts.contains(&sample.expected), time, panics)
}

fn scanner_decode(scanner: &Scanner, px: &[u8], w: u32, h: u32) -> (Vec<String>, u64) {
    match GreyFrame::new(px, w, h) {
        Ok(frame) => {
            let out = scanner.scan(frame);
            (
                out.detections.into_iter().map(|d| d.text).collect(),
                u64::from(out.panics_caught),
            )
        }
        Err(_) => (Vec::new(), 0),
    }
}

fn rxing_alone(px: &[u8], w: u32, h: u32) -> (Vec<String>, u64) {
    let run = panic::catch_unwind(AssertUnwindSafe(|| {
        let Ok(source) = Luma8Source::new_with_slice(px, w, h) else {
            return Vec::new();
        };
        let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
        let hints = DecodeHints {
            PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
            ..DecodeHints::default()
        };
        MultiFormatReader::default()
            .decode_with_hints(&mut bitmap, &hints)
            .map(|r| vec![r.getText().to_owned()])
            .unwrap_or_default()
    }));
    run.map_or_else(|_| (Vec::new(), 1), |t| (t, 0))
}

/// ZXing-C++ through its PyPI wheel in a throwaway venv: per set and
/// sample, (decoded?, time). Samples are written as grey PNGs so both sides
/// decode the very same pixels.
fn zxing_peer(sets: &[&Set]) -> Result<Vec<Vec<(bool, Timing)>>, BenchError> {
    let python = venv("zxing-venv", &["zxing-cpp", "pillow"])?;
    let images = cache_dir().join(format!("frames-{}", std::process::id()));
    std::fs::create_dir_all(&images).map_err(io_error(&images))?;
    let mut paths = Vec::new();
    for (si, set) in sets.iter().enumerate() {
        for (i, s) in set.samples.iter().enumerate() {
            let path = images.join(format!("{si}-{i}.png"));
            // Samples are built with width * height pixels, so this is Some.
            if let Some(grey) = image::GrayImage::from_raw(s.width, s.height, s.pixels.clone()) {
                grey.save(&path).map_err(|source| BenchError::Image {
                    path: path.clone(),
                    source,
                })?;
            }
            paths.push((si, i, path));
        }
    }
    // The peer's script travels inside the bench, so it is always the one
    // from the checkout the bench was built from.
    let mut peer = Command::new(&python);
    peer.args(["-c", ZXING_PEER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = peer.spawn().map_err(|source| BenchError::Spawn {
        cmd: format!("{peer:?}"),
        source,
    })?;
    // Both pipes were requested above, so both are there.
    if let Some(mut stdin) = child.stdin.take() {
        for (_, _, p) in &paths {
            writeln!(stdin, "{}", p.display()).map_err(BenchError::PeerPipe)?;
        }
    }
    let mut by_path = BTreeMap::new();
    let lines = child.stdout.take().map(|out| BufReader::new(out).lines());
    for line in lines.into_iter().flatten() {
        let line = line.map_err(BenchError::PeerPipe)?;
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let path = v["path"].as_str().unwrap_or_default().to_owned();
        let time = Timing {
            wall: v["ms"].as_f64().unwrap_or(f64::NAN),
            cpu: v["cpu_ms"].as_f64().unwrap_or(f64::NAN),
        };
        let texts: Vec<String> = v["texts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        by_path.insert(path, (texts, time));
    }
    let status = child.wait().map_err(BenchError::PeerPipe)?;
    let _ = std::fs::remove_dir_all(&images);
    if !status.success() {
        return Err(BenchError::Failed {
            cmd: format!("{peer:?}"),
            status,
        });
    }
    let mut out: Vec<Vec<(bool, Timing)>> = sets
        .iter()
        .map(|s| Vec::with_capacity(s.samples.len()))
        .collect();
    for (si, i, p) in paths {
        let (texts, time) = by_path
            .get(&p.display().to_string())
            .cloned()
            .ok_or_else(|| BenchError::MissingPeerResult(p.clone()))?;
        let expected = &sets[si].samples[i].expected;
        out[si].push((texts.iter().any(|t| t == expected), time));
    }
    Ok(out)
}

fn run(cmd: &mut Command) -> Result<(), BenchError> {
    let status = cmd.status().map_err(|source| BenchError::Spawn {
        cmd: format!("{cmd:?}"),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Failed {
            cmd: format!("{cmd:?}"),
            status,
        })
    }
}

const DECODERS: [&str; 3] = ["scanner", "rxing alone", "zxing-cpp"];

/// One set's results: per decoder, the tally and which samples it read.
struct SetResult {
    tallies: Vec<Tally>,
    read: Vec<Vec<bool>>,
}

fn bench_set(scanner: &Scanner, set: &Set, peer: Option<&Vec<(bool, Timing)>>) -> SetResult {
    let mut tallies: Vec<Tally> = vec![Tally::default(); DECODERS.len()];
    let mut read: Vec<Vec<bool>> = vec![Vec::new(); DECODERS.len()];
    // Decoder-major, so no decoder finds the pixels warm in the cache
    // because another just read them.
    for s in &set.samples {
        let (ok, ms, p) = time_one(s, |px, w, h| scanner_decode(scanner, px, w, h));
        tallies[0].add(ok, ms, p);
        read[0].push(ok);
    }
    for s in &set.samples {
        let (ok, ms, p) = time_one(s, rxing_alone);
        tallies[1].add(ok, ms, p);
        read[1].push(ok);
    }
    for &(ok, time) in peer.into_iter().flatten() {
        tallies[2].add(ok, time, 0);
        read[2].push(ok);
    }
    SetResult { tallies, read }
}

fn cell(t: &Tally) -> String {
    if t.total == 0 {
        return "-".to_owned();
    }
    format!(
        "{:>3}/{:<3} {:>6.2} {:>6.2}",
        t.decoded,
        t.total,
        t.cpu_percentile(0.5),
        t.cpu_percentile(0.95)
    )
}

fn print_row(name: &str, tallies: &[Tally], extra: &str) {
    let cells: Vec<String> = tallies.iter().map(|t| format!("{:>21}", cell(t))).collect();
    println!("  {name:<16} {} {extra}", cells.join(" "));
}

/// Benches every set of `source`, prints its table, and returns its totals
/// per decoder.
fn bench_source(
    scanner: &Scanner,
    source: &Source,
    peer: Option<&[Vec<(bool, Timing)>]>,
    misses: bool,
) -> Vec<Tally> {
    let images: usize = source.sets.iter().map(|s| s.samples.len()).sum();
    println!("\n{} ({images} images)", source.title);
    let heads: Vec<String> = DECODERS
        .iter()
        .map(|d| format!("{:>21}", format!("{d}: n med p95")))
        .collect();
    println!("  {:<16} {} {:>12}", "set", heads.join(" "), "peer-only");
    let mut totals = vec![Tally::default(); DECODERS.len()];
    let mut peer_only_total = 0;
    for (si, set) in source.sets.iter().enumerate() {
        let result = bench_set(scanner, set, peer.and_then(|p| p.get(si)));
        // Frames a peer reads that the scanner does not.
        let peer_only: Vec<usize> = (0..set.samples.len())
            .filter(|&i| {
                !result.read[0][i] && result.read[1..].iter().any(|r| r.get(i) == Some(&true))
            })
            .collect();
        peer_only_total += peer_only.len();
        print_row(
            &set.name,
            &result.tallies,
            &format!("{:>12}", peer_only.len()),
        );
        if misses {
            for i in &peer_only {
                println!("      missed, a peer reads: {}", set.samples[*i].label);
            }
        }
        for (total, t) in totals.iter_mut().zip(&result.tallies) {
            total.merge(t);
        }
    }
    print_row("total", &totals, &format!("{peer_only_total:>12}"));
    let panics: Vec<String> = DECODERS
        .iter()
        .zip(&totals)
        .map(|(d, t)| format!("{d} {}", t.panics))
        .collect();
    println!("  panics: {}", panics.join(", "));
    totals
}

/// The live path on every 1280x720 frame: `LIVE_TURNS` consecutive turns
/// of [`Scanner::scan_in_turn`] each, with the live scanner's budget.
/// Returns (time per scan, frames read within the turns, frames).
fn bench_live(sources: &[Source]) -> (Tally, usize) {
    let scanner = Scanner::new(ScannerConfig {
        budget: LiveConfig::default().frame_interval,
    });
    let mut scans = Tally::default();
    let mut frames = 0;
    let samples = sources
        .iter()
        .flat_map(|s| &s.sets)
        .flat_map(|s| &s.samples)
        .filter(|s| (s.width, s.height) == (1280, 720));
    for s in samples {
        let Ok(frame) = GreyFrame::new(&s.pixels, s.width, s.height) else {
            continue;
        };
        frames += 1;
        let mut found = false;
        for n in 0..LIVE_TURNS {
            let (out, time) = timed(|| scanner.scan_in_turn(frame, n));
            found |= out.detections.iter().any(|d| d.text == s.expected);
            // Counted once per frame, on its last turn.
            let read = found && n + 1 == LIVE_TURNS;
            scans.add(read, time, u64::from(out.panics_caught));
        }
    }
    (scans, frames)
}

fn summary(what: &str, t: &Tally) {
    println!(
        "{what}: wall median {:.2} ms, p95 {:.2} ms, max {:.2} ms; CPU median {:.2} ms, p95 {:.2} ms",
        t.percentile(0.5),
        t.percentile(0.95),
        t.percentile(1.0),
        t.cpu_percentile(0.5),
        t.cpu_percentile(0.95),
    );
}

fn main() -> ExitCode {
    // Panics inside the baselines are expected and counted; keep them quiet.
    panic::set_hook(Box::new(|_| {}));
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "usage: scanner [DIR] [--peers] [--sources LIST] [--frames N] [--per-category N] \
                 [--seed S] [--holdout-seed S] [--size WxH] [--budget MS] [--misses]: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    let sources = match load_sources(&opts) {
        Ok(s) if s.iter().any(|s| !s.sets.is_empty()) => s,
        Ok(_) => {
            eprintln!("no samples found");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "scanner benchmark: one decode per image, single thread, budget {} ms; load average {}",
        opts.budget_ms,
        load_average()
    );
    println!("cells: decoded, median and p95 CPU ms of the decoding thread");
    let all_sets: Vec<&Set> = sources.iter().flat_map(|s| &s.sets).collect();
    let peer = if opts.peers {
        match zxing_peer(&all_sets) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("ZXing-C++ peer unavailable: {e}");
                None
            }
        }
    } else {
        None
    };
    let scanner = Scanner::new(ScannerConfig {
        budget: Duration::from_millis(opts.budget_ms),
    });
    let mut totals: Vec<Tally> = vec![Tally::default(); DECODERS.len()];
    let mut first_set = 0;
    for source in &sources {
        let sets = first_set..first_set + source.sets.len();
        first_set = sets.end;
        let peer = peer.as_ref().and_then(|p| p.get(sets));
        let source_totals = bench_source(&scanner, source, peer, opts.misses);
        for (total, t) in totals.iter_mut().zip(&source_totals) {
            total.merge(t);
        }
    }
    let (live, live_frames) = bench_live(&sources);
    println!();
    print_row("all stills", &totals, "");
    println!("load average {}", load_average());
    let s = &totals[0];
    summary("whole cascade per still", s);
    if live_frames > 0 {
        summary(
            &format!(
                "live path per 1280x720 frame ({live_frames} frames x {LIVE_TURNS} turns, \
                 {} read within them)",
                live.decoded
            ),
            &live,
        );
    }
    println!(
        "decoded {}/{}, median {:.2} ms, p95 {:.2} ms",
        s.decoded,
        s.total,
        s.percentile(0.5),
        s.percentile(0.95)
    );
    ExitCode::SUCCESS
}
