//! Data readers on small files the tests write: IDX (plain and gzipped), CIFAR-10 batches, PNG
//! folders and CSV points, with every malformed case an error; and the 2-D toy sets.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;

use diffusion_playground::data::images::{
    idx, read_cifar10, read_idx_images, read_idx_labels, read_png_dir,
};
use diffusion_playground::data::{PointSet, Toy2d};
use diffusion_playground::noise;

#[test]
fn idx_images_and_labels_read_plain_and_gzipped() {
    let d = common::scratch("datasets", "idx");
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|i| i as u8).collect();
    let bytes = idx::to_idx(&[3, 4, 5], &pixels);
    std::fs::write(d.join("img.idx"), &bytes).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    std::fs::write(d.join("img.idx.gz"), gz.finish().unwrap()).unwrap();
    for name in ["img.idx", "img.idx.gz"] {
        let set = read_idx_images(d.join(name)).unwrap();
        assert_eq!(
            (set.len(), set.channels, set.height, set.width),
            (3, 1, 4, 5)
        );
        assert_eq!(set.pixels, pixels);
        // 2p/255 - 1: pixel 0 → -1.
        assert_eq!(set.image_f32(0)[0], -1.0);
    }
    std::fs::write(d.join("lab.idx"), idx::to_idx(&[3], &[7, 1, 9])).unwrap();
    assert_eq!(read_idx_labels(d.join("lab.idx")).unwrap(), vec![7, 1, 9]);
}

#[test]
fn corrupt_idx_files_are_errors() {
    let d = common::scratch("datasets", "idx_bad");
    let good = idx::to_idx(&[2, 2, 2], &[0; 8]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("short", vec![0, 0], "shorter than"),
        ("magic", [&[1u8, 0][..], &good[2..]].concat(), "magic"),
        (
            "type",
            [&[0u8, 0, 0x0d][..], &good[3..]].concat(),
            "element type",
        ),
        ("truncated", good[..good.len() - 1].to_vec(), "need 8 bytes"),
        ("header", good[..9].to_vec(), "header"),
        ("empty", idx::to_idx(&[0, 28, 28], &[]), "empty"),
    ];
    for (name, bytes, needle) in cases {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let e = read_idx_images(&p).unwrap_err().to_string();
        assert!(e.contains(needle), "{name}: {e}");
    }
    std::fs::write(d.join("bad.gz"), b"not gzip").unwrap();
    assert!(read_idx_images(d.join("bad.gz"))
        .unwrap_err()
        .to_string()
        .contains("gzip"));
}

#[test]
fn cifar_batches_read_and_reject_partial_records() {
    let d = common::scratch("datasets", "cifar");
    let mut batch = Vec::new();
    for label in [3u8, 8] {
        batch.push(label);
        batch.extend((0..3072).map(|i| (i % 251) as u8));
    }
    std::fs::write(d.join("b.bin"), &batch).unwrap();
    let set = read_cifar10(&[d.join("b.bin")]).unwrap();
    assert_eq!(
        (set.len(), set.channels, set.height, set.width),
        (2, 3, 32, 32)
    );
    assert_eq!(set.labels.as_deref(), Some(&[3u8, 8][..]));
    std::fs::write(d.join("cut.bin"), &batch[..5000]).unwrap();
    assert!(read_cifar10(&[d.join("cut.bin")])
        .unwrap_err()
        .to_string()
        .contains("records"));
    batch[0] = 12;
    std::fs::write(d.join("label.bin"), &batch).unwrap();
    assert!(read_cifar10(&[d.join("label.bin")])
        .unwrap_err()
        .to_string()
        .contains("label 12"));
}

fn write_png(path: &std::path::Path, w: u32, h: u32, color: png::ColorType, data: &[u8]) {
    let f = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

#[test]
fn png_folders_read_in_name_order_and_must_agree_in_shape() {
    let d = common::scratch("datasets", "png");
    write_png(
        &d.join("b.png"),
        2,
        1,
        png::ColorType::Rgb,
        &[10, 20, 30, 40, 50, 60],
    );
    write_png(
        &d.join("a.png"),
        2,
        1,
        png::ColorType::Rgba,
        &[1, 2, 3, 255, 4, 5, 6, 255],
    );
    let set = read_png_dir(&d).unwrap();
    assert_eq!(
        (set.len(), set.channels, set.height, set.width),
        (2, 3, 1, 2)
    );
    // a.png first, planes R, G, B (alpha dropped).
    assert_eq!(&set.pixels[..6], &[1, 4, 2, 5, 3, 6]);
    write_png(&d.join("c.png"), 2, 1, png::ColorType::Grayscale, &[0, 0]);
    assert!(read_png_dir(&d).unwrap_err().to_string().contains("1×1×2"));
    let empty = common::scratch("datasets", "png_empty");
    assert!(read_png_dir(&empty)
        .unwrap_err()
        .to_string()
        .contains("no .png"));
    std::fs::write(empty.join("x.png"), b"junk").unwrap();
    assert!(read_png_dir(&empty)
        .unwrap_err()
        .to_string()
        .contains("not a readable PNG"));
}

#[test]
fn csv_points_parse_with_a_header_and_reject_bad_rows() {
    let p = PointSet::from_csv("x,y\n1,2\n# comment\n3.5, -4\n", "pts.csv").unwrap();
    assert_eq!((p.len(), p.dim()), (2, 2));
    assert_eq!(p.values(), &[1.0, 2.0, 3.5, -4.0]);
    for (text, needle) in [
        ("1,2\n3\n", "line 2: 1 columns, expected 2"),
        ("1,2\n3,abc\n", "line 2: 'abc' is not a number"),
        ("1,2\n3,NaN\n", "not a finite number"),
        ("1,2\n3,inf\n", "not a finite number"),
        ("1,2\n", "at least 2 points"),
        ("x,y\n", "at least 2 points"),
        ("", "holds no points"),
    ] {
        let e = PointSet::from_csv(text, "pts.csv").unwrap_err().to_string();
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn toy_sets_have_their_documented_shape() {
    let n = 20_000;
    for toy in Toy2d::ALL {
        let x = toy.sample(n, &mut noise::rng(1));
        assert_eq!(x.len(), 2 * n);
        assert!(
            x.iter().all(|v| v.is_finite() && v.abs() < 4.0),
            "{}",
            toy.name()
        );
        assert_eq!(toy.name().parse::<Toy2d>().unwrap(), toy);
    }
    // Rings: half the radii near 1, half near 2 (noise 0.05, so ±0.3 is > 5 SD).
    let x = Toy2d::Rings.sample(n, &mut noise::rng(2));
    let near = |r0: f32| {
        x.chunks(2)
            .filter(|p| ((p[0] * p[0] + p[1] * p[1]).sqrt() - r0).abs() < 0.3)
            .count()
    };
    assert_eq!(near(1.0) + near(2.0), n);
    // Checkerboard: every point in a dark cell (floor(x)+2 + floor(y)+2 even).
    let x = Toy2d::Checkerboard.sample(n, &mut noise::rng(3));
    assert!(x
        .chunks(2)
        .all(|p| ((p[0] + 2.0).floor() as i64 + (p[1] + 2.0).floor() as i64) % 2 == 0));
    // 8 Gaussians: each of the 8 modes gets 1/8 within 3 SE (SE = √(7/64/n) ≈ 0.0023).
    let x = Toy2d::EightGaussians.sample(n, &mut noise::rng(4));
    let mut counts = [0usize; 8];
    for p in x.chunks(2) {
        let k = ((p[1].atan2(p[0]) / std::f32::consts::TAU * 8.0).round() as i64).rem_euclid(8);
        counts[k as usize] += 1;
    }
    for c in counts {
        assert!(
            (c as f64 / n as f64 - 0.125).abs() < 3.0 * (7.0 / 64.0 / n as f64).sqrt(),
            "{counts:?}"
        );
    }
    assert!("spiral"
        .parse::<Toy2d>()
        .unwrap_err()
        .to_string()
        .contains("moons"));
}
