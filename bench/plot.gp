# bench/plot.gp - the scaling plot of `make bench`, drawn from the data
# bench/report.py writes.  Called as
#   gnuplot -e "scaling='S'; peers='P'; outfile='O'; machine='M'; jmax=N" bench/plot.gp
# Left: wsrun's speedup over its own -j1 for each workload, against ideal.
# Right: each peer's time over wsrun's at -j N (log scale; above 1 = wsrun
# is faster).  Must only read its two data files and write `outfile`.

set terminal pngcairo size 1400,600 font "DejaVu Sans,10" noenhanced
set output outfile
set multiplot layout 1,2 title "wsrun benchmarks on ".machine

set title "wsrun speedup over its own -j1"
set xlabel "-j (worker threads)"
set ylabel "speedup"
set xrange [0.8:jmax + 0.2]
set yrange [0:jmax * 1.2]
set xtics 1
set key top left font ",8"
set grid
stats scaling nooutput
# Point shape and dash vary with the colour cycle, so a dozen lines stay apart.
plot for [i=0:STATS_blocks - 1] scaling index i using 1:2 with linespoints lw 2 \
         pt (i % 7 + 4) dashtype i / 8 + 1 title columnheader(1), \
     x with lines dt 2 lc rgb "gray" title "ideal"

set title sprintf("peer time / wsrun time at -j%d (above 1: wsrun faster)", jmax)
set xlabel ""
set ylabel "ratio (log scale)"
set logscale y
set autoscale x
set yrange [*:*]
set xtics rotate by 50 right font ",7"
set style fill solid 0.6
set boxwidth 0.7
set key off
plot peers using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     1 with lines lc rgb "red" dt 2

unset multiplot
