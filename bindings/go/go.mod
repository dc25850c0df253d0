module heliosrepl.dev/go

go 1.19
