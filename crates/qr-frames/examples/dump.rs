fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let n: u64 = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(3);
    let (w, h): (u32, u32) = (
        std::env::args()
            .nth(3)
            .map(|s| s.parse().unwrap())
            .unwrap_or(1280),
        std::env::args()
            .nth(4)
            .map(|s| s.parse().unwrap())
            .unwrap_or(720),
    );
    for d in qr_frames::Distortion::ALL {
        std::fs::create_dir_all(format!("{dir}/{}", d.name())).unwrap();
        for s in 0..n {
            let (p, img) = qr_frames::monitor_frame(w, h, d, s).unwrap();
            let mut out = format!("P5\n{} {}\n255\n", img.width, img.height).into_bytes();
            out.extend_from_slice(&img.pixels);
            std::fs::write(format!("{dir}/{}/{s}.pgm", d.name()), out).unwrap();
            std::fs::write(format!("{dir}/{}/{s}.txt", d.name()), p).unwrap();
        }
    }
}
