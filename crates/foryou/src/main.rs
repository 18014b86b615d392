fn main() {
    let mp4 = foryou_media::synth::clip_mp4(&foryou_media::synth::ClipSpec { seconds: 4.0, ..Default::default() });
    std::fs::write("/tmp/clip.mp4", mp4).unwrap();
    std::fs::write("/tmp/poster.png", foryou_media::synth::poster_png(&Default::default())).unwrap();
}
