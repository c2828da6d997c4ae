//! Scanner benchmark: decoded count and per-image latency of the ZPair
//! scanner next to rqrr alone and rxing alone (and ZXing-C++ with `--peers`),
//! one decode per image, single-threaded, grey pixels in, text compared byte
//! for byte.
//!
//! ```text
//! cargo bench -p zpair-scanner --bench scanner -- [DIR] [--peers] [--frames N] [--size WxH]
//! ```
//!
//! DIR holds subfolders of `N.<png|jpg|webp>` + `N.txt` (the expected text).
//! Without DIR the bench renders the distortion sets itself (`qr-frames`, a
//! subfolder per distortion kind). `--peers` installs the `zxing-cpp` and
//! `pillow` wheels into a throwaway venv under the user cache and runs
//! `zxing_peer.py` on the same grey pixels. The last line printed is always
//! `decoded N/M, median X ms, p95 Y ms` for the scanner.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::Instant;

use qr_frames::Distortion;
use rxing::common::HybridBinarizer;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source, MultiFormatReader, Reader};
use zpair_scanner::{GreyFrame, Scanner, ScannerConfig};

/// Frames per generated distortion set.
const DEFAULT_FRAMES: u64 = 20;

/// Why the benchmark could not run (or could not run the peer).
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0}")]
    Usage(&'static str),
    #[error("unknown option {0}")]
    UnknownOption(String),
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

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_owned(),
        source,
    }
}

struct Sample {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    expected: String,
}

struct Set {
    name: String,
    samples: Vec<Sample>,
}

/// One decoder's results on one set.
#[derive(Default, Clone)]
struct Tally {
    decoded: usize,
    total: usize,
    millis: Vec<f64>,
    panics: u64,
}

impl Tally {
    fn add(&mut self, ok: bool, ms: f64, panics: u64) {
        self.total += 1;
        self.decoded += usize::from(ok);
        self.millis.push(ms);
        self.panics += panics;
    }

    fn merge(&mut self, other: &Self) {
        self.decoded += other.decoded;
        self.total += other.total;
        self.millis.extend_from_slice(&other.millis);
        self.panics += other.panics;
    }

    fn percentile(&self, q: f64) -> f64 {
        if self.millis.is_empty() {
            return 0.0;
        }
        let mut v = self.millis.clone();
        v.sort_by(f64::total_cmp);
        let idx = ((v.len() - 1) as f64 * q).round() as usize;
        v[idx.min(v.len() - 1)]
    }
}

struct Options {
    dir: Option<PathBuf>,
    peers: bool,
    frames: u64,
    size: (u32, u32),
}

fn parse_args() -> Result<Options, BenchError> {
    let mut opts = Options {
        dir: None,
        peers: false,
        frames: DEFAULT_FRAMES,
        size: (1280, 720),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench appends this to every harness = false target.
            "--bench" => {}
            "--peers" => opts.peers = true,
            "--frames" => {
                opts.frames = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or(BenchError::Usage("--frames needs a number"))?;
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

/// Runs `decode` once on `sample`; returns (decoded?, ms, panics).
fn time_one(
    sample: &Sample,
    decode: impl FnOnce(&[u8], u32, u32) -> (Vec<String>, u64),
) -> (bool, f64, u64) {
    let start = Instant::now();
    let (texts, panics) = decode(&sample.pixels, sample.width, sample.height);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    (texts.contains(&sample.expected), ms, panics)
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

fn rqrr_alone(px: &[u8], w: u32, h: u32) -> (Vec<String>, u64) {
    let run = panic::catch_unwind(AssertUnwindSafe(|| {
        let (w, h) = (w as usize, h as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]);
        img.detect_grids()
            .into_iter()
            .filter_map(|g| {
                let mut bytes = Vec::new();
                g.decode_to(&mut bytes).ok()?;
                Some(
                    String::from_utf8(bytes)
                        .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect()),
                )
            })
            .collect()
    }));
    run.map_or_else(|_| (Vec::new(), 1), |t| (t, 0))
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

/// ZXing-C++ through its PyPI wheel in a throwaway venv: per sample,
/// (decoded?, ms). Samples are written as grey PNGs so both sides decode the
/// very same pixels.
fn zxing_peer(sets: &[Set]) -> Result<Vec<Vec<(bool, f64)>>, BenchError> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("zpair-bench");
    let venv = cache.join("zxing-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("creating venv for ZXing-C++ in {}", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "zxing-cpp",
        "pillow",
    ]))?;
    let images = cache.join(format!("frames-{}", std::process::id()));
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
        let ms = v["ms"].as_f64().unwrap_or(f64::NAN);
        let texts: Vec<String> = v["texts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        by_path.insert(path, (texts, ms));
    }
    let status = child.wait().map_err(BenchError::PeerPipe)?;
    let _ = std::fs::remove_dir_all(&images);
    if !status.success() {
        return Err(BenchError::Failed {
            cmd: format!("{peer:?}"),
            status,
        });
    }
    let mut out: Vec<Vec<(bool, f64)>> = sets
        .iter()
        .map(|s| Vec::with_capacity(s.samples.len()))
        .collect();
    for (si, i, p) in paths {
        let (texts, ms) = by_path
            .get(&p.display().to_string())
            .cloned()
            .ok_or_else(|| BenchError::MissingPeerResult(p.clone()))?;
        let expected = &sets[si].samples[i].expected;
        out[si].push((texts.iter().any(|t| t == expected), ms));
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

fn print_table(title: &str, rows: &[(&str, &Tally)]) {
    println!("\n{title}");
    println!(
        "  {:<14} {:>9} {:>11} {:>9} {:>7}",
        "decoder", "decoded", "median ms", "p95 ms", "panics"
    );
    for (name, t) in rows {
        println!(
            "  {:<14} {:>9} {:>11.2} {:>9.2} {:>7}",
            name,
            format!("{}/{}", t.decoded, t.total),
            t.percentile(0.5),
            t.percentile(0.95),
            t.panics
        );
    }
}

fn main() -> ExitCode {
    // Panics inside the baselines are expected and counted; keep them quiet.
    panic::set_hook(Box::new(|_| {}));
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("usage: scanner [DIR] [--peers] [--frames N] [--size WxH]: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sets = match &opts.dir {
        Some(dir) => load_dir(dir),
        None => generate(opts.frames, opts.size),
    };
    let sets = match sets {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => {
            eprintln!("no samples found");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let source = opts.dir.as_ref().map_or_else(
        || format!("generated {}x{} frames", opts.size.0, opts.size.1),
        |d| d.display().to_string(),
    );
    println!("scanner benchmark on {source}: one decode per image, single thread");
    let peer = if opts.peers {
        match zxing_peer(&sets) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("ZXing-C++ peer unavailable: {e}");
                None
            }
        }
    } else {
        None
    };
    let scanner = Scanner::new(ScannerConfig::default());
    let names = ["scanner", "rqrr alone", "rxing alone", "zxing-cpp"];
    let mut totals: Vec<Tally> = vec![Tally::default(); names.len()];
    for (si, set) in sets.iter().enumerate() {
        let mut tallies: Vec<Tally> = vec![Tally::default(); names.len()];
        // Decoder-major, so no decoder finds the pixels warm in the cache
        // because another just read them.
        for s in &set.samples {
            let (ok, ms, p) = time_one(s, |px, w, h| scanner_decode(&scanner, px, w, h));
            tallies[0].add(ok, ms, p);
        }
        for s in &set.samples {
            let (ok, ms, p) = time_one(s, rqrr_alone);
            tallies[1].add(ok, ms, p);
        }
        for s in &set.samples {
            let (ok, ms, p) = time_one(s, rxing_alone);
            tallies[2].add(ok, ms, p);
        }
        if let Some(results) = peer.as_ref().and_then(|p| p.get(si)) {
            for (ok, ms) in results {
                tallies[3].add(*ok, *ms, 0);
            }
        }
        let rows: Vec<(&str, &Tally)> = names
            .iter()
            .zip(&tallies)
            .filter(|(_, t)| t.total > 0)
            .map(|(n, t)| (*n, t))
            .collect();
        print_table(
            &format!("{} ({} images)", set.name, set.samples.len()),
            &rows,
        );
        for (total, t) in totals.iter_mut().zip(&tallies) {
            total.merge(t);
        }
    }
    let rows: Vec<(&str, &Tally)> = names
        .iter()
        .zip(&totals)
        .filter(|(_, t)| t.total > 0)
        .map(|(n, t)| (*n, t))
        .collect();
    print_table(&format!("total ({} images)", totals[0].total), &rows);
    let s = &totals[0];
    println!(
        "decoded {}/{}, median {:.2} ms, p95 {:.2} ms",
        s.decoded,
        s.total,
        s.percentile(0.5),
        s.percentile(0.95)
    );
    ExitCode::SUCCESS
}
