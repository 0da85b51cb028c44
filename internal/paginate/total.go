package paginate

// RecordTotaler is an optional interface of a Paginator that reads from
// the response how many records the resource has in all (offset's
// total_path item count, page_number's record count), for the progress
// display's percentage.
type RecordTotaler interface {
	// RecordTotal returns the total the last page gave, if it gave one.
	RecordTotal() (int64, bool)
}

// RecordTotal returns the record total p read from the last page, if p
// reads one (see RecordTotaler).
func RecordTotal(p Paginator) (int64, bool) {
	if t, ok := p.(RecordTotaler); ok {
		return t.RecordTotal()
	}
	return 0, false
}

// RecordTotal returns total_path's item count on the last page.
func (p *Offset) RecordTotal() (int64, bool) { return int64(p.total), p.haveTotal && p.total > 0 }

// RecordTotal returns the last page's record count (total_counts: records,
// or the seed form's "total").
func (p *PageNumber) RecordTotal() (int64, bool) {
	return int64(p.records), p.haveRecs && p.records > 0
}

// RecordTotal is the detected paginator's record total.
func (a *Auto) RecordTotal() (int64, bool) {
	if a.p == nil {
		return 0, false
	}
	return RecordTotal(a.p)
}
