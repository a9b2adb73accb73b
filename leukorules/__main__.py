from leukorules.cli import main

main(prog_name="leukorules")
