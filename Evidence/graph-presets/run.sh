#!/bin/bash
# Real-model smoke runs of the presets: latent/text/single answers and 2 steps of outer training.
B=$1; O=/tmp/smoke/out; mkdir -p $O
cd /tmp/smoke
$B data synthetic --count 24 --seed 7 --out rows.jsonl > /dev/null 2>&1
python3 - <<'PY'
import json
rows=[json.loads(l) for l in open('rows.jsonl')]
with open('mixture-rows.jsonl','w') as f:
    for r in rows:
        r=dict(r); r['math_expert']=r['plan']; r['code_expert']=r['refined_plan']; r['science_expert']=r['plan']
        f.write(json.dumps(r)+'\n')
PY
q="Mia has 3 boxes with 14 pencils each. She gives away 9 pencils. How many pencils does she have now?"
for p in mixture distillation deliberation ring; do
  sys=$p; [ $p = ring ] && sys=/tmp/smoke/ring.json
  for m in latent text single; do
    /usr/bin/time -f "%e s %M KB" $B run --system $sys --method $m --rounds 2 --latent 8 --max-tokens 48 --json "$q" > $O/$p-$m.json 2> $O/$p-$m.err
  done
  data=rows.jsonl; [ $p = mixture ] && data=mixture-rows.jsonl
  /usr/bin/time -f "%e s %M KB" $B train outer --system $sys --data $data --held-out-count 2 --out $O/$p-train --steps 2 --batch-size 1 --rounds 2 --max-latent-rows 16 --checkpoint-every 1 --eval-every 2 > $O/$p-train.log 2>&1
  /usr/bin/time -f "%e s %M KB" $B run --system $O/$p-train/system.json --method latent --rounds 2 --latent 8 --max-tokens 48 --json "$q" > $O/$p-trained.json 2> $O/$p-trained.err
done
echo finished > $O/DONE
