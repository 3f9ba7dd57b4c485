//! One picture per series: why it scored as it did.
//!
//! Four panels, top to bottom: each check-in's interval over time (jitter, missed beats, sleep
//! changes, working hours show as structure), the interval histogram on a log scale with the
//! period and its multiples marked, the periodogram with the chosen period, and the
//! autocorrelation with its lag.

use beaconstat::beacon::{Evidence, PValue, human_secs};
use plotters::prelude::*;
use std::path::Path;

type DrawResult = Result<(), Box<dyn std::error::Error>>;

const MARK: RGBColor = RGBColor(214, 39, 40);
const DATA: RGBColor = RGBColor(31, 119, 180);

pub fn render(path: &Path, title: &str, ev: &Evidence) -> DrawResult {
    let root = SVGBackend::new(path, (1000, 1150)).into_drawing_area();
    root.fill(&WHITE)?;
    let r = &ev.report;
    let (head, body) = root.split_vertically(70);
    head.draw(&Text::new(
        format!("{title}   score {:.2}   p{}", r.score, PValue(r.p_value)),
        (15, 10),
        ("sans-serif", 22).into_font().style(FontStyle::Bold),
    ))?;
    head.draw(&Text::new(r.explain().to_string(), (15, 42), ("sans-serif", 14)))?;
    let panels = body.split_evenly((4, 1));
    let period = r.period.map_or(0.0, |p| p.as_secs_f64());
    timeline(&panels[0], ev, period)?;
    histogram(&panels[1], ev, period)?;
    periodogram(&panels[2], ev, period)?;
    autocorrelation(&panels[3], ev, period)?;
    root.present()?;
    Ok(())
}

/// `a > b`, false when either is NaN.
fn gt(a: f64, b: f64) -> bool {
    a.partial_cmp(&b) == Some(std::cmp::Ordering::Greater)
}

fn bounds(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)))
}

/// Interval to the next check-in against the time of the check-in, hours since the first.
fn timeline(area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, ev: &Evidence, period: f64) -> DrawResult {
    let t0 = ev.beats.first().copied().unwrap_or(0);
    let pts: Vec<(f64, f64)> = ev
        .beats
        .iter()
        .zip(&ev.intervals_s)
        .map(|(&t, &d)| ((t - t0) as f64 / 3.6e9, d))
        .collect();
    let (xmin, xmax) = bounds(pts.iter().map(|p| p.0));
    let (ymin, ymax) = bounds(pts.iter().map(|p| p.1).chain([period]));
    if !gt(xmax, xmin) || !gt(ymin, 0.0) {
        return Ok(());
    }
    let caption = "interval to the next check-in, over time; red: period and its multiples";
    let marks: Vec<f64> = (1..=4)
        .map(|k| period * k as f64)
        .filter(|&y| period > 0.0 && y <= ymax * 1.25)
        .collect();
    // The same drawing on a log or a linear y axis (log only where the intervals span more than
    // a decade: its ticks vanish otherwise).
    macro_rules! draw {
        ($y:expr) => {{
            let mut c = ChartBuilder::on(area)
                .caption(caption, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(35)
                .y_label_area_size(70)
                .build_cartesian_2d(xmin..xmax, $y)?;
            c.configure_mesh()
                .x_desc("hours since first check-in")
                .y_desc("interval")
                .y_label_formatter(&|v| human_secs(*v))
                .draw()?;
            for (k, &y) in marks.iter().enumerate() {
                c.draw_series(LineSeries::new(
                    [(xmin, y), (xmax, y)],
                    MARK.mix(if k == 0 { 0.9 } else { 0.35 }),
                ))?;
            }
            c.draw_series(pts.iter().map(|&p| Circle::new(p, 2, DATA.mix(0.7).filled())))?;
        }};
    }
    if ymax / ymin > 20.0 {
        draw!((ymin * 0.8..ymax * 1.25).log_scale())
    } else {
        draw!(0.0..ymax * 1.1)
    }
    Ok(())
}

fn histogram(area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, ev: &Evidence, period: f64) -> DrawResult {
    let bins = ev.interval_histogram(80);
    let (Some(first), Some(last)) = (bins.first(), bins.last()) else {
        return Ok(());
    };
    let (lo, hi) = (first.0.min(period * 0.9).max(1e-6), last.1.max(period * 1.1));
    let top = bins.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.1;
    let marks: Vec<f64> = (1..=6)
        .map(|k| period * k as f64)
        .filter(|&x| period > 0.0 && x >= lo && x <= hi)
        .collect();
    // The same drawing on a log or a linear x axis (log only where it spans more than a decade).
    macro_rules! draw {
        ($x:expr) => {{
            let mut c = ChartBuilder::on(area)
                .caption(
                    "intervals between check-ins; red: period and its multiples (missed check-ins)",
                    ("sans-serif", 16),
                )
                .margin(12)
                .x_label_area_size(35)
                .y_label_area_size(70)
                .build_cartesian_2d($x, 0.0..top)?;
            c.configure_mesh()
                .x_desc("interval")
                .y_desc("count")
                .x_label_formatter(&|v| human_secs(*v))
                .draw()?;
            c.draw_series(
                bins.iter()
                    .map(|&(a, b, n)| Rectangle::new([(a, 0.0), (b, n as f64)], DATA.mix(0.6).filled())),
            )?;
            for (k, &x) in marks.iter().enumerate() {
                c.draw_series(LineSeries::new(
                    [(x, 0.0), (x, top)],
                    MARK.mix(if k == 0 { 0.9 } else { 0.35 }),
                ))?;
            }
        }};
    }
    if hi / lo > 20.0 {
        draw!((lo..hi).log_scale())
    } else {
        draw!(lo..hi)
    }
    Ok(())
}

fn periodogram(area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, ev: &Evidence, period: f64) -> DrawResult {
    let pts: Vec<(f64, f64)> = ev.periodogram.iter().copied().filter(|p| p.0 > 0.0).collect();
    let (lo, hi) = bounds(pts.iter().map(|p| p.0));
    let (_, top) = bounds(pts.iter().map(|p| p.1));
    if !gt(hi, lo) || !gt(top, 0.0) {
        return Ok(());
    }
    let r = &ev.report;
    let mut c = ChartBuilder::on(area)
        .caption(
            format!(
                "periodogram of the binned check-ins; Fisher g = {:.3}, p{}",
                r.spectrum.fisher_g,
                PValue(r.spectrum.fisher_p)
            ),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..top * 1.1)?;
    c.configure_mesh()
        .x_desc("period")
        .y_desc("power share")
        .x_label_formatter(&|v| human_secs(*v))
        .draw()?;
    c.draw_series(LineSeries::new(pts.iter().copied(), DATA))?;
    if period >= lo && period <= hi {
        c.draw_series(LineSeries::new([(period, 0.0), (period, top * 1.1)], MARK))?;
    }
    Ok(())
}

fn autocorrelation(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ev: &Evidence,
    period: f64,
) -> DrawResult {
    // Show up to five periods of lag (or the whole ACF when there is no period).
    let limit = if period > 0.0 { period * 5.5 } else { f64::INFINITY };
    let pts: Vec<(f64, f64)> = ev
        .autocorrelation
        .iter()
        .copied()
        .skip(1)
        .take_while(|p| p.0 <= limit)
        .collect();
    let (lo, hi) = bounds(pts.iter().map(|p| p.0));
    let (ymin, ymax) = bounds(pts.iter().map(|p| p.1));
    if !gt(hi, lo) {
        return Ok(());
    }
    let mut c = ChartBuilder::on(area)
        .caption(
            format!("autocorrelation; at the period: {:.2}", ev.report.spectrum.acf),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, ymin.min(0.0)..ymax.max(0.1) * 1.1)?;
    c.configure_mesh()
        .x_desc("lag")
        .y_desc("r")
        .x_label_formatter(&|v| human_secs(*v))
        .draw()?;
    c.draw_series(LineSeries::new(pts.iter().copied(), DATA))?;
    for k in 1..=5 {
        let x = period * k as f64;
        if period > 0.0 && x <= hi {
            c.draw_series(LineSeries::new(
                [(x, ymin.min(0.0)), (x, ymax.max(0.1) * 1.1)],
                MARK.mix(0.5),
            ))?;
        }
    }
    Ok(())
}
