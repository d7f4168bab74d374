"@bruin
name: r.analysis
type: r
description: A small summary in base R.
@bruin"

values <- c(3, 1, 4, 1, 5, 9, 2, 6)
cat("mean:", mean(values), "max:", max(values), "\n")
cat("run for", Sys.getenv("BRUIN_START_DATE"), "\n")
