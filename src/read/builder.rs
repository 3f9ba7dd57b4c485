//! The methods every line-based reader builder ([`ZeekReaderBuilder`](super::ZeekReaderBuilder),
//! [`ZeekJsonReaderBuilder`](super::ZeekJsonReaderBuilder),
//! [`CsvReaderBuilder`](super::CsvReaderBuilder)) shares, written once: the
//! [`ReadOptions`](crate::ReadOptions) setters it forwards and the two ways to start reading.

/// Expands, inside a builder's `impl` block, to its `strict`, `options`, `buffer_capacity`,
/// `max_record_len`, `from_reader` and `from_path` methods, each with its doc comment and a
/// runnable example.
///
/// The builder has an `opts: ReadOptions` field. `log` is a small log in the builder's format:
/// a header if the format has one, one good record and one record a lenient reader skips, each
/// line under 64 bytes (the examples read it). `build` turns the builder (`this`), the opened
/// `Lines` (`lines`) and the path (`path: Option<PathBuf>`) into `Result<Reader>`.
macro_rules! line_reader_builder_methods {
    (
        builder: $builder:ident,
        reader: $reader:ident,
        log: $log:literal,
        from_reader_errors: $reader_errors:literal,
        from_path_errors: $path_errors:literal,
        build: |$this:ident, $lines:ident, $path:ident| $build:expr $(,)?
    ) => {
        /// Strict mode: the first bad record is an error (with its line, field and value)
        /// instead of a counted skip (see [`ReadOptions::strict`](crate::ReadOptions::strict)).
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::read::", stringify!($builder), ";")]
        #[doc = concat!("let log = ", stringify!($log), ";")]
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().strict(true).from_reader(log.as_bytes())?;")]
        /// assert!(r.next_event()?.is_some());
        /// assert!(r.next_event().is_err());
        /// # Ok::<(), beaconstat::Error>(())
        /// ```
        pub fn strict(&mut self, yes: bool) -> &mut Self {
            self.opts.strict(yes);
            self
        }

        /// All the shared settings at once.
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::{ReadOptions, read::", stringify!($builder), "};")]
        #[doc = concat!("let log = ", stringify!($log), ";")]
        /// let mut opts = ReadOptions::new();
        /// opts.strict(true).buffer_capacity(64 * 1024);
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().options(&opts).from_reader(log.as_bytes())?;")]
        /// assert!(r.next_event()?.is_some());
        /// assert!(r.next_event().is_err());
        /// # Ok::<(), beaconstat::Error>(())
        /// ```
        pub fn options(&mut self, opts: &$crate::ReadOptions) -> &mut Self {
            self.opts = opts.clone();
            self
        }

        /// The input buffer size in bytes (default 256 KiB; at least 64).
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::read::", stringify!($builder), ";")]
        #[doc = concat!("let log = ", stringify!($log), ";")]
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().buffer_capacity(64).from_reader(log.as_bytes())?;")]
        /// let mut n = 0;
        /// r.for_each(|_| n += 1)?;
        /// assert_eq!((n, r.stats().skipped), (1, 1));
        /// # Ok::<(), beaconstat::Error>(())
        /// ```
        pub fn buffer_capacity(&mut self, bytes: usize) -> &mut Self {
            self.opts.buffer_capacity(bytes);
            self
        }

        /// Records longer than this are skipped with
        /// [`SkipReason::LineTooLong`](crate::SkipReason::LineTooLong) (default 16 MiB).
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::{SkipReason, read::", stringify!($builder), "};")]
        #[doc = concat!("let log = format!(\"{}{}\\n\", ", stringify!($log), ", \"x\".repeat(100));")]
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().max_record_len(64).from_reader(log.as_bytes())?;")]
        /// let mut n = 0;
        /// r.for_each(|_| n += 1)?;
        /// assert_eq!((n, r.stats().by_reason[&SkipReason::LineTooLong]), (1, 1));
        /// # Ok::<(), beaconstat::Error>(())
        /// ```
        pub fn max_record_len(&mut self, bytes: usize) -> &mut Self {
            self.opts.max_record_len(bytes);
            self
        }

        /// A reader over `rdr` (gzip detected by its magic bytes).
        ///
        /// # Errors
        #[doc = $reader_errors]
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::read::", stringify!($builder), ";")]
        #[doc = concat!("let log = ", stringify!($log), ";")]
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().from_reader(log.as_bytes())?;")]
        /// let mut n = 0;
        /// r.for_each(|_| n += 1)?;
        /// assert_eq!((n, r.stats().skipped), (1, 1));
        /// # Ok::<(), beaconstat::Error>(())
        /// ```
        pub fn from_reader<R: std::io::Read>(&self, rdr: R) -> $crate::Result<$reader<R>> {
            let $this = self;
            let $lines = self.opts.lines(rdr, None)?;
            let $path: Option<std::path::PathBuf> = None;
            $build
        }

        /// A reader over the file at `path` (plain or gzip).
        ///
        /// # Errors
        #[doc = $path_errors]
        ///
        /// # Example
        /// ```
        #[doc = concat!("use beaconstat::read::", stringify!($builder), ";")]
        #[doc = concat!("let path = std::env::temp_dir().join(\"beaconstat-doc-", stringify!($builder), ".log\");")]
        #[doc = concat!("std::fs::write(&path, ", stringify!($log), ")?;")]
        #[doc = concat!("let mut r = ", stringify!($builder), "::new().from_path(&path)?;")]
        /// let mut n = 0;
        /// r.for_each(|_| n += 1)?;
        /// assert_eq!((n, r.stats().skipped), (1, 1));
        /// std::fs::remove_file(&path)?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn from_path<P: AsRef<std::path::Path>>(&self, path: P) -> $crate::Result<$reader<std::fs::File>> {
            let path = path.as_ref();
            let $this = self;
            let $lines = self.opts.open_lines(path)?;
            let $path = Some(path.to_owned());
            $build
        }
    };
}

pub(crate) use line_reader_builder_methods;
