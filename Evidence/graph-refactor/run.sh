#!/bin/bash
# usage: run.sh BINARY OUTDIR
B=$1; O=$2; mkdir -p $O
qs=("A baker makes 12 loaves a day for 5 days and sells 41. How many are left?" "Mia has 3 boxes with 14 pencils each. She gives away 9 pencils. How many pencils does she have now?")
i=0
for q in "${qs[@]}"; do
  for spec in "latent 1" "latent 2" "text 1" "single 1"; do
    set -- $spec
    $B run --method $1 --rounds $2 --max-tokens 48 --json "$q" > $O/q$i-$1-r$2.json 2>$O/q$i-$1-r$2.err
  done
  i=$((i+1))
done
echo finished > $O/DONE
