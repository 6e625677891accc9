//! Minimal `.npy` (format 1.0) reader/writer for little-endian f32 arrays —
//! what numpy alone reads, so training needs nothing else.

use std::io::{self, Read, Write};

/// Write a C-order `<f4` array of the given shape.
pub fn write_f32(mut w: impl Write, shape: &[usize], data: &[f32]) -> io::Result<()> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "shape does not match data length",
        ));
    }
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    let mut bytes = Vec::with_capacity(data.len() * 4);
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    w.write_all(&bytes)
}

/// Read a C-order `<f4` array: its shape and data.
pub fn read_f32(mut r: impl Read) -> io::Result<(Vec<usize>, Vec<f32>)> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(bad("not an .npy file"));
    }
    let header_len = if magic[6] == 1 {
        let mut l = [0u8; 2];
        r.read_exact(&mut l)?;
        u16::from_le_bytes(l) as usize
    } else {
        let mut l = [0u8; 4];
        r.read_exact(&mut l)?;
        u32::from_le_bytes(l) as usize
    };
    let mut header = vec![0u8; header_len];
    r.read_exact(&mut header)?;
    let header = String::from_utf8_lossy(&header);
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad(
            "only C-order little-endian float32 arrays are supported",
        ));
    }
    let open = header.find("'shape': (").ok_or_else(|| bad("no shape"))? + 10;
    let close = open + header[open..].find(')').ok_or_else(|| bad("bad shape"))?;
    let shape: Vec<usize> = header[open..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let mut bytes = vec![0u8; n * 4];
    r.read_exact(&mut bytes)?;
    let data = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        write_f32(&mut buf, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!((buf.len() - 24) % 64, 0, "header padded to 64 bytes");
        let (shape, data) = read_f32(&buf[..]).unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(data[5], 6.0);
    }
}
