//! A minimal PNG encoder (8-bit RGB, Sub filter, zlib) for posters.

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Encodes `rgb` (width × height × 3 bytes, row-major) as a PNG file.
pub fn encode(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let row = width as usize * 3;
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for y in 0..height as usize {
        raw.push(0);
        raw.extend_from_slice(rgb.get(y * row..(y + 1) * row).unwrap_or(&[]));
        raw.resize((row + 1) * (y + 1), 0);
    }
    // Filter "Sub" makes flat areas runs of zeros, which deflate shrinks to almost nothing.
    for y in 0..height as usize {
        let line = &mut raw[y * (row + 1)..(y + 1) * (row + 1)];
        line[0] = 1;
        for x in (4..=row).rev() {
            line[x] = line[x].wrapping_sub(line[x - 3]);
        }
    }
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn checksum_matches_known_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn pixels_round_trip_through_inflate() {
        let rgb: Vec<u8> = (0..(7 * 5 * 3)).map(|i| (i * 37 % 251) as u8).collect();
        let png = super::encode(7, 5, &rgb);
        let idat_len = u32::from_be_bytes([png[33], png[34], png[35], png[36]]) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&png[41..41 + idat_len])
            .expect("valid zlib");
        for y in 0..5 {
            let line = &raw[y * 22..(y + 1) * 22];
            assert_eq!(line[0], 1);
            let mut prev = [0u8; 3];
            for x in 0..7 {
                for c in 0..3 {
                    let v = line[1 + x * 3 + c].wrapping_add(prev[c]);
                    assert_eq!(v, rgb[(y * 7 + x) * 3 + c]);
                    prev[c] = v;
                }
            }
        }
    }
}
