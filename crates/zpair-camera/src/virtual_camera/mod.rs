//! `--camera file:PATH`: a file played as a camera, through exactly the
//! path a real camera's frames take, paced at a camera's rate on the
//! capture thread. PATH is an image (re-read when it changes), a folder of
//! images (name order, looping), a Y4M video (looping, at its own rate) or
//! an MJPEG video (looping, at the configured rate: the format has none).

mod folder;
mod image;
pub(crate) mod mjpeg;
pub(crate) mod y4m;

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use mjpeg::MjpegError;
pub use y4m::Y4mError;

use self::folder::Folder;
use self::image::{ImageFile, read_error};
use self::mjpeg::Mjpeg;
use crate::clock::{Clock, StopSignal};
use crate::error::CameraError;
use crate::pace::Pacer;
use crate::source::{FrameRate, FrameSource, FrameStream, GreyBuffer, Next, StreamInfo};

/// Image file extensions played, lowercase.
const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];
/// Frames a late video reader skips at most in one go; past that it is
/// simply late, and reading through minutes of video would not help.
const MAX_SKIP: u64 = 240;

/// Settings of a virtual camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VirtualConfig {
    /// Rate for images, folders and MJPEG (a Y4M video plays at its own rate).
    pub rate: FrameRate,
}

/// A file or folder played as a camera.
#[derive(Debug, Clone)]
pub struct VirtualCamera {
    path: PathBuf,
    config: VirtualConfig,
    clock: Arc<dyn Clock>,
}

#[derive(Debug)]
enum Kind {
    Image(ImageFile),
    Folder(Folder),
    Video(Video),
    Mjpeg(Mjpeg),
}

impl VirtualCamera {
    /// A virtual camera on `path`, paced against `clock`.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, config: VirtualConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            path: path.into(),
            config,
            clock,
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

pub(crate) fn is_image(path: &Path) -> bool {
    extension(path).is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

impl FrameSource for VirtualCamera {
    fn open(&mut self) -> Result<(StreamInfo, Box<dyn FrameStream>), CameraError> {
        let path = &self.path;
        let meta = fs::metadata(path).map_err(|e| read_error(path, e))?;
        let (kind, (width, height), rate) = if meta.is_dir() {
            let folder = Folder::load(path)?;
            let size = folder.size();
            (Kind::Folder(folder), size, self.config.rate)
        } else if extension(path).as_deref() == Some("y4m") {
            let video = Video::open(path)?;
            let header = video.reader.header();
            (
                Kind::Video(video),
                (header.width, header.height),
                header.rate,
            )
        } else if matches!(extension(path).as_deref(), Some("mjpeg" | "mjpg")) {
            let video = Mjpeg::open(path)?;
            let size = video.size();
            (Kind::Mjpeg(video), size, self.config.rate)
        } else if is_image(path) {
            let image = ImageFile::open(path, self.clock.now())?;
            let size = image.size();
            (Kind::Image(image), size, self.config.rate)
        } else {
            return Err(CameraError::UnsupportedFile { path: path.clone() });
        };
        let info = StreamInfo {
            name: path.display().to_string(),
            width,
            height,
            rate,
        };
        let stream = VirtualStream {
            path: path.clone(),
            clock: Arc::clone(&self.clock),
            kind,
            pacer: Pacer::new(rate),
        };
        Ok((info, Box::new(stream)))
    }
}

/// An open virtual camera.
#[derive(Debug)]
struct VirtualStream {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    kind: Kind,
    pacer: Pacer,
}

impl FrameStream for VirtualStream {
    fn next_frame(
        &mut self,
        frame: &mut GreyBuffer,
        stop: &StopSignal,
    ) -> Result<Next, CameraError> {
        let Some(tick) = self.pacer.wait(self.clock.as_ref(), stop) else {
            return Ok(Next::Stopped);
        };
        match &mut self.kind {
            Kind::Image(image) => image.frame(self.clock.now(), frame)?,
            Kind::Folder(folder) => folder.frame(tick.index, frame),
            Kind::Mjpeg(video) => video.frame(tick.index, frame),
            Kind::Video(video) => {
                video
                    .frame(tick.skipped, frame)
                    .map_err(|source| CameraError::Video {
                        path: self.path.clone(),
                        source,
                    })?
            }
        }
        Ok(Next::Frame)
    }

    /// Files need no release beyond closing them, which dropping does.
    fn close(self: Box<Self>) {}
}

/// A looping Y4M file.
#[derive(Debug)]
struct Video {
    reader: y4m::Reader<BufReader<File>>,
}

impl Video {
    fn open(path: &Path) -> Result<Self, CameraError> {
        let video_error = |source| CameraError::Video {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(|e| read_error(path, e))?;
        let reader = y4m::Reader::new(BufReader::new(file)).map_err(video_error)?;
        let mut video = Self { reader };
        // One whole frame, or the file cannot be played at all.
        video
            .advance(Some(&mut GreyBuffer::default()))
            .and_then(|()| video.reader.rewind())
            .map_err(video_error)?;
        Ok(video)
    }

    fn frame(&mut self, skipped: u64, out: &mut GreyBuffer) -> Result<(), Y4mError> {
        for _ in 0..skipped.min(MAX_SKIP) {
            self.advance(None)?;
        }
        self.advance(Some(out))
    }

    /// Reads (or skips) the next frame, starting over at the end.
    fn advance(&mut self, mut out: Option<&mut GreyBuffer>) -> Result<(), Y4mError> {
        for _ in 0..2 {
            let got = match out.as_deref_mut() {
                Some(out) => self.reader.read_frame(out)?,
                None => self.reader.skip_frame()?,
            };
            if got {
                return Ok(());
            }
            self.reader.rewind()?;
        }
        Err(Y4mError::NoFrames)
    }
}

#[cfg(test)]
mod tests;
